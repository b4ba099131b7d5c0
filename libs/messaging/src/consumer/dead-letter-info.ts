/** Set by a consumer that dead-letters a message itself (it can never be handled): why. */
export const DEAD_LETTER_REASON_HEADER = 'x-pacslink-dead-letter-reason';

/** What a dead-letter watch queue learns about a message another queue dead-lettered. */
export interface DeadLetterInfo {
  /** Why, in words a person can act on. */
  reason: string;
  /**
   * true: a consumer refused it (malformed, invalid, PermanentMessageError): it can never succeed.
   * false: the broker dropped it (delivery limit, expiry, length limit): a later try may succeed.
   */
  refused: boolean;
}

interface XDeath {
  reason?: string;
  queue?: string;
}

/**
 * Ours when a consumer dead-lettered it, else the broker's (x-death). A quorum queue dead-letters
 * for `delivery_limit` after `deliveryLimit` + 1 deliveries; x-death's `count` is how many times
 * the message died for that reason (1), not how often it was delivered, and the dead letter keeps
 * no x-delivery-count, so the number comes from the limit every queue is declared with.
 */
export function deadLetterInfoOf(
  headers: Record<string, unknown> | undefined,
  deliveryLimit: number,
): DeadLetterInfo | undefined {
  const ours = headers?.[DEAD_LETTER_REASON_HEADER];
  if (typeof ours === 'string') return { reason: ours, refused: true };
  const deaths = headers?.['x-death'] as XDeath[] | undefined;
  const death = deaths?.[0];
  if (!death?.reason) return undefined;
  const queue = death.queue ? ` from ${death.queue}` : '';
  if (death.reason === 'delivery_limit') {
    return {
      reason: `delivered ${deliveryLimit + 1} times${queue} without being acknowledged (the queue's delivery limit is ${deliveryLimit})`,
      refused: false,
    };
  }
  return { reason: `dead-lettered by the broker${queue} (${death.reason})`, refused: false };
}
