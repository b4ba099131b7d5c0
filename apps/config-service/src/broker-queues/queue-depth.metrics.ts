import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { BrokerConnection, ParkingQueues } from '@pacslink/messaging';
import { METRICS_REGISTRY, scrapedGauge } from '@pacslink/platform';

/**
 * `pacslink_queue_messages{queue}`: the messages waiting in each dead-letter queue and in
 * pacslink.unroutable, read from the broker at every scrape by a passive declare (the management
 * API may be absent). config-service owns these queues' watch; a queue that does not exist (its
 * service never ran) or a broker that cannot be reached (within the scrape's bound) leaves the
 * sample out.
 */
@Injectable()
export class QueueDepthMetrics {
  private readonly logger = new Logger(QueueDepthMetrics.name);

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, connection: BrokerConnection) {
    scrapedGauge(registry, {
      name: 'pacslink_queue_messages',
      help: 'Messages in a dead-letter or unroutable queue, as the broker counts them at the scrape',
      labelNames: ['queue'],
      logger: this.logger,
      read: async () =>
        [...(await connection.queueDepths(ParkingQueues))].map(([queue, messages]) => ({
          labels: { queue },
          value: messages,
        })),
    });
  }
}
