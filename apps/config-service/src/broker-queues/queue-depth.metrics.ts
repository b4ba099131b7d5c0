import { Inject, Injectable, Logger } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { BrokerConnection, ParkingQueues } from '@pacslink/messaging';
import { METRICS_REGISTRY } from '@pacslink/platform';

/** A scrape answers without the gauge rather than waiting on a broker that does not answer. */
const READ_TIMEOUT_MS = 2_000;

/**
 * `pacslink_queue_messages{queue}`: the messages waiting in each dead-letter queue and in
 * pacslink.unroutable, read from the broker at every scrape by a passive declare (the management
 * API may be absent). config-service owns these queues' watch; a queue that does not exist (its
 * service never ran) or a broker that cannot be reached leaves the sample out.
 */
@Injectable()
export class QueueDepthMetrics {
  private readonly logger = new Logger(QueueDepthMetrics.name);

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, connection: BrokerConnection) {
    const logger = this.logger;
    new Gauge({
      name: 'pacslink_queue_messages',
      help: 'Messages in a dead-letter or unroutable queue, as the broker counts them at the scrape',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        this.reset();
        try {
          const depths = await withTimeout(connection.queueDepths(ParkingQueues), READ_TIMEOUT_MS);
          for (const [queue, messages] of depths) this.set({ queue }, messages);
        } catch (error) {
          logger.warn({ msg: 'queue depths not read from the broker', reason: (error as Error).message });
        }
      },
    });
  }
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
