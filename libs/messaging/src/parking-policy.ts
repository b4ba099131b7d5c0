import { ConsumerQueues, UnroutableQueue, deadLetterQueueOf } from '@pacslink/contracts';

/**
 * The broker policy that bounds the queues nobody consumes: every `<queue>.dead-letter` and
 * `pacslink.unroutable`. Applied by the operator (docs/decisions/0002-messaging.md, "Bounded
 * dead-letter and unroutable queues"), because a queue's own arguments cannot change once it exists.
 *
 * `reject-publish`, not `drop-head`: a full queue refuses new messages instead of discarding its
 * oldest, so nothing is lost — the outbox keeps an unroutable command and retries it; a message
 * dead-lettered at-least-once stays in its source queue until there is room; a consumer's
 * dead-letter publish is not confirmed and the delivery goes back to its queue. The broker holds
 * at most the bound per queue, in messages and in bytes (3.10 keeps quorum queue bodies in memory).
 * Quorum queues know no `reject-publish-dlx`.
 */
export const ParkingPolicy = {
  name: 'pacslink-parking',
  pattern: String.raw`^pacslink\.(unroutable|.+\.dead-letter)$`,
  applyTo: 'queues',
  priority: 1,
  definition: {
    'max-length': 10_000,
    'max-length-bytes': 32 * 1024 * 1024,
    overflow: 'reject-publish',
  },
} as const;

/** The queues ParkingPolicy bounds: where messages wait for a person, so their depth is watched. */
export const ParkingQueues: readonly string[] = [
  UnroutableQueue,
  ...Object.values(ConsumerQueues).map(({ name }) => deadLetterQueueOf(name)),
];
