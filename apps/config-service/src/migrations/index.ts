import { messagingMigrations } from '@pacslink/messaging';

/** Every migration of config-service's schema, oldest first. Append only. */
export const configServiceMigrations = [...messagingMigrations];
