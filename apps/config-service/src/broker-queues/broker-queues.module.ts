import { Module } from '@nestjs/common';
import { QueueDepthMetrics } from './queue-depth.metrics';

/** What config-service watches on the broker for people: the depth of the queues nobody consumes. */
@Module({ providers: [QueueDepthMetrics] })
export class BrokerQueuesModule {}
