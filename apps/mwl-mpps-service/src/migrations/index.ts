import { messagingMigrations } from '@pacslink/messaging';

/** Every migration of mwl-mpps-service's schema, oldest first. Append only. */
export const mwlMppsMigrations = [...messagingMigrations];
