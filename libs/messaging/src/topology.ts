import type { ConfirmChannel } from 'amqplib';
import { Exchanges, UnroutableQueue, deadLetterQueueOf, type ConsumerQueue } from '@pacslink/contracts';

/**
 * Declares the exchanges, the unroutable queue, and the queues this service consumes or sends
 * commands into (each with its dead-letter queue) — never a queue nobody reads, which would only
 * grow. Idempotent, run on every (re)connect. Consumer queues are quorum queues: durable,
 * replicated, with a delivery limit (RabbitMQ 3.10 sets none by default, 4.x sets 20: we set it
 * so both behave alike) and at-least-once dead-lettering, which requires `reject-publish` overflow.
 * Dead-letter and unroutable queues are bounded by a broker policy (ParkingPolicy), not here:
 * queue arguments cannot change on a queue that exists.
 */
export async function assertTopology(
  channel: ConfirmChannel,
  queues: readonly ConsumerQueue[],
  deliveryLimit: number,
): Promise<void> {
  await channel.assertExchange(Exchanges.Unroutable, 'fanout', { durable: true });
  await channel.assertQueue(UnroutableQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(UnroutableQueue, Exchanges.Unroutable, '');
  await channel.assertExchange(Exchanges.Commands, 'topic', {
    durable: true,
    alternateExchange: Exchanges.Unroutable,
  });
  await channel.assertExchange(Exchanges.Events, 'topic', { durable: true });
  await channel.assertExchange(Exchanges.DeadLetter, 'direct', { durable: true });

  const unique = new Map(queues.map((queue) => [queue.name, queue]));
  for (const queue of unique.values()) {
    const deadLetters = deadLetterQueueOf(queue.name);
    await channel.assertQueue(deadLetters, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.bindQueue(deadLetters, Exchanges.DeadLetter, queue.name);
    await channel.assertQueue(queue.name, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': deliveryLimit,
        'x-dead-letter-exchange': Exchanges.DeadLetter,
        'x-dead-letter-routing-key': queue.name,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
    for (const key of queue.bindingKeys) await channel.bindQueue(queue.name, queue.exchange, key);
  }
}
