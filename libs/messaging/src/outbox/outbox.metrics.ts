import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { MESSAGING_METRICS_REGISTRY } from '../messaging.metrics';

/** A scrape answers without the gauges rather than wait on a database that does not answer. */
const READ_TIMEOUT_MS = 2_000;

/**
 * `pacslink_outbox_messages` and `pacslink_outbox_oldest_age_seconds`: the rows not yet published
 * and how long the oldest has waited, read at every scrape (one aggregate over the pending rows'
 * partial index, so the cost follows the backlog, not the table). A broker outage shows as both
 * growing. A database that cannot be read leaves both out of that scrape (readiness reports it).
 */
@Injectable()
export class OutboxMetrics {
  private readonly logger = new Logger(OutboxMetrics.name);

  constructor(dataSource: DataSource, @Optional() @Inject(MESSAGING_METRICS_REGISTRY) registry?: Registry) {
    if (!registry) return;
    const logger = this.logger;
    const read = () =>
      withTimeout(pendingOf(dataSource), READ_TIMEOUT_MS).catch((error: unknown) => {
        logger.warn({ msg: 'outbox backlog not read from the database', reason: (error as Error).message });
        return undefined;
      });
    new Gauge({
      name: 'pacslink_outbox_messages',
      help: 'Outbox messages committed and not yet published to the broker',
      registers: [registry],
      async collect() {
        const pending = await read();
        if (pending) this.set(pending.messages);
        else this.remove(); // absent, not 0: an unlabelled gauge holds 0 from its creation
      },
    });
    new Gauge({
      name: 'pacslink_outbox_oldest_age_seconds',
      help: 'Age of the oldest outbox message not yet published (0 when none waits)',
      registers: [registry],
      async collect() {
        const pending = await read();
        if (pending) this.set(pending.oldestAgeSeconds);
        else this.remove(); // absent, not 0: an unlabelled gauge holds 0 from its creation
      },
    });
  }
}

async function pendingOf(dataSource: DataSource): Promise<{ messages: number; oldestAgeSeconds: number }> {
  const [row] = await dataSource.query<{ messages: number; age: number }[]>(
    `SELECT count(*)::int AS messages,
            coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age
       FROM outbox_message WHERE sent_at IS NULL`,
  );
  return { messages: row.messages, oldestAgeSeconds: row.age };
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
