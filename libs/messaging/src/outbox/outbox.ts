import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Envelope, MessageContract } from '@pacslink/contracts';
import { createEnvelope } from '../envelope';
import { activeTraceCarrier, type TraceCarrier } from '../trace-context';
import { OutboxMessage } from './outbox-message.entity';

/**
 * Writes a message in the caller's transaction: it is published if and only if that transaction
 * commits (the relay does the publishing).
 */
@Injectable()
export class Outbox {
  async enqueue<T extends object>(
    manager: EntityManager,
    contract: MessageContract<T>,
    data: T,
    /** The trace the message belongs to, as activeTraceCarrier kept it; default: the active one. */
    trace: TraceCarrier | null = activeTraceCarrier(),
  ): Promise<Envelope<T>> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('Outbox.enqueue must run inside the transaction that changes the state it announces');
    }
    const envelope = createEnvelope(contract, data);
    await manager.insert(OutboxMessage, {
      id: envelope.eventId,
      exchange: contract.exchange,
      routingKey: contract.type,
      envelope,
      // The relay publishes later, outside this context: the row keeps it.
      traceContext: trace,
    });
    return envelope;
  }
}
