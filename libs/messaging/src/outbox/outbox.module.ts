import { type DynamicModule, Module } from '@nestjs/common';
import { Inbox } from '../inbox/inbox';
import { Outbox } from './outbox';
import { OutboxMetrics } from './outbox.metrics';
import {
  OUTBOX_RELAY_OPTIONS,
  OutboxRelay,
  defaultOutboxRelayOptions,
  type OutboxRelayOptions,
} from './outbox-relay';

/** Outbox, its relay and the inbox, for services that own a database (needs TypeORM's DataSource). */
@Module({})
export class OutboxModule {
  static forRoot(options: Partial<OutboxRelayOptions> = {}): DynamicModule {
    return {
      module: OutboxModule,
      global: true,
      providers: [
        { provide: OUTBOX_RELAY_OPTIONS, useValue: { ...defaultOutboxRelayOptions, ...options } },
        Outbox,
        OutboxRelay,
        OutboxMetrics,
        Inbox,
      ],
      exports: [Outbox, OutboxRelay, Inbox],
    };
  }
}
