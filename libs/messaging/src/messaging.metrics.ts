import { Counter, type Registry } from 'prom-client';

/**
 * The service's metrics registry as messaging sees it. PlatformModule binds it to its
 * METRICS_REGISTRY: platform depends on messaging (health, shutdown), so messaging cannot import
 * platform's token. Unbound (messaging tested on its own), messaging records no metrics.
 */
export const MESSAGING_METRICS_REGISTRY = Symbol('MESSAGING_METRICS_REGISTRY');

/**
 * `pacslink_consumer_redeliveries_total{queue}`: deliveries the broker marked redelivered (a
 * handler failed and rejected it, or a consumer went away before its ack). A steady rise is a
 * handler failing again and again or workers dying mid-work.
 */
export function redeliveryCounter(registry: Registry): Counter<'queue'> {
  return new Counter({
    name: 'pacslink_consumer_redeliveries_total',
    help: 'Messages consumed that the broker had delivered before (redelivered=true), by queue',
    labelNames: ['queue'],
    registers: [registry],
  });
}
