import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import type { Envelope, MessageContract } from '@pacslink/contracts';

/** Parses a message body into an envelope; throws with a reason a person can read. */
export function parseEnvelope(body: Buffer): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error('body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error('body is not a JSON object');
  const { eventId, type, version, occurredAt, data } = parsed as Record<string, unknown>;
  if (typeof eventId !== 'string' || eventId === '') throw new Error('envelope has no eventId');
  if (typeof type !== 'string' || type === '') throw new Error('envelope has no type');
  if (typeof version !== 'number') throw new Error('envelope has no version');
  if (typeof occurredAt !== 'string') throw new Error('envelope has no occurredAt');
  if (typeof data !== 'object' || data === null) throw new Error('envelope has no data object');
  return { eventId, type, version, occurredAt, data };
}

/** The data as an instance of the contract's class, or a list of what is wrong with it. */
export async function validateData<T extends object>(
  contract: MessageContract<T>,
  data: unknown,
): Promise<{ data: T } | { problems: string[] }> {
  const instance = plainToInstance(contract.data, data);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) return { problems: flatten(errors) };
  return { data: instance };
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = `${prefix}${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((text) => `${path}: ${text}`);
    return [...own, ...flatten(error.children ?? [], `${path}.`)];
  });
}
