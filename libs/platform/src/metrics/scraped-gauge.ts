import type { Logger } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';

/** A scrape answers without the gauge rather than wait on a store that does not answer. */
export const SCRAPE_READ_TIMEOUT_MS = 2_000;

export interface GaugeSample<L extends string> {
  labels: Partial<Record<L, string>>;
  value: number;
}

export interface ScrapedGaugeOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Reads every sample now (one grouped query): the gauge shows exactly these. */
  read: () => Promise<GaugeSample<L>[]>;
  /** Where a failed read is told (a warning naming the gauge; readiness reports the outage). */
  logger: Pick<Logger, 'warn'>;
}

/**
 * A gauge computed at each scrape from the service's own store. Every replica shows the shared
 * state, not what it did itself. A read that fails or takes longer than SCRAPE_READ_TIMEOUT_MS
 * leaves the gauge out of that scrape, and the scrape still answers with everything else.
 */
export function scrapedGauge<L extends string>(
  registry: Registry,
  options: ScrapedGaugeOptions<L>,
): Gauge<L> {
  const { read, logger } = options;
  return new Gauge<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const { labels, value } of await withTimeout(read(), SCRAPE_READ_TIMEOUT_MS)) {
          this.set(labels, value);
        }
      } catch (error) {
        logger.warn({ msg: `${options.name} not read`, reason: (error as Error).message });
      }
    },
  });
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
