import { Registry, collectDefaultMetrics } from 'prom-client';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/**
 * One registry per service, labelled with its name; features add their own metrics to it. The
 * default process metrics keep their standard names (`process_cpu_user_seconds_total`,
 * `nodejs_heap_size_used_bytes`, ...), which the usual Node.js dashboards and alerts expect.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
