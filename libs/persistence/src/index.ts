export * from './database-url';
export * from './database-mode';
export * from './prepare-database';
export * from './service-data-source';
export * from './service-database.module';
export * from './migrate-command';
export * from './database-outage';
