import { randomUUID } from 'node:crypto';
import type { Envelope, MessageContract } from '@pacslink/contracts';

export function createEnvelope<T extends object>(contract: MessageContract<T>, data: T): Envelope<T> {
  return {
    eventId: randomUUID(),
    type: contract.type,
    version: contract.version,
    occurredAt: new Date().toISOString(),
    data,
  };
}
