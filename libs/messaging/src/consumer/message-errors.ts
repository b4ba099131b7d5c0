/**
 * Thrown by a handler when retrying cannot help (bad data, a refused request): the message goes
 * straight to the dead-letter queue with this message as its reason. Any other error is treated as
 * transient and the message is redelivered with backoff until the queue's delivery limit.
 */
export class PermanentMessageError extends Error {
  override readonly name = 'PermanentMessageError';
}
