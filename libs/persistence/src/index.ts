export * from './database-url';
export * from './prepare-database';
export * from './service-data-source';
export * from './service-database.module';
export * from './database-outage';
