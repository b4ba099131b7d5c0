import type { ConsumerQueue } from '@pacslink/contracts';

export interface MessagingOptions {
  /** AMQP URL; the vhost, if any, is its path. */
  url: string;
  /** Names the connection in the broker's management UI. */
  connectionName: string;
  /** Queues this service consumes; declared (with their dead-letter queues) at every (re)connect. */
  consumerQueues?: readonly ConsumerQueue[];
  /**
   * Command queues this service publishes into and another service consumes; declared too, so that
   * a command published before its consumer ever ran waits in its queue (not in pacslink.unroutable).
   */
  commandQueues?: readonly ConsumerQueue[];
  /** A publish that the broker has not confirmed by then is rejected (and retried by the caller). */
  publishTimeoutMs?: number;
  heartbeatSeconds?: number;
  reconnectSeconds?: number;
  /** Deliveries in flight per consumer channel. */
  prefetch?: number;
  /** Broker-side bound on redeliveries of one message (quorum queue `x-delivery-limit`). */
  deliveryLimit?: number;
  /** At shutdown, handlers in flight get this long to finish (and ack) before the channel closes. */
  drainMs?: number;
}

export type ResolvedMessagingOptions = Required<MessagingOptions>;

export function resolveMessagingOptions(options: MessagingOptions): ResolvedMessagingOptions {
  return {
    consumerQueues: [],
    commandQueues: [],
    publishTimeoutMs: 5_000,
    heartbeatSeconds: 5,
    reconnectSeconds: 1,
    prefetch: 8,
    deliveryLimit: 5,
    drainMs: 20_000,
    ...options,
  };
}

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');
