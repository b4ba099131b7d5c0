import { InboxMessage } from './inbox/inbox-message.entity';
import { CreateOutboxAndInbox1764190000000 } from './migrations/1764190000000-CreateOutboxAndInbox';
import { AddOutboxTraceContext1765200000000 } from './migrations/1765200000000-AddOutboxTraceContext';
import { OutboxMessage } from './outbox/outbox-message.entity';

export * from './messaging.options';
export * from './messaging.module';
export * from './messaging.metrics';
export * from './broker-connection';
export * from './confirmed-publisher';
export * from './envelope';
export * from './topology';
export * from './parking-policy';
export * from './consumer/message-consumer';
export * from './consumer/message-errors';
export * from './consumer/topic-match';
export * from './consumer/validate-envelope';
export * from './rpc/rpc-client';
export * from './outbox/outbox';
export * from './outbox/outbox-relay';
export * from './outbox/outbox.module';
export * from './inbox/inbox';
export { activeTraceCarrier, type TraceCarrier } from './trace-context';
export { OutboxMessage, InboxMessage };

/** Entities and migrations every service with a database includes in its DataSource. */
export const messagingEntities = [OutboxMessage, InboxMessage];
export const messagingMigrations = [CreateOutboxAndInbox1764190000000, AddOutboxTraceContext1765200000000];
