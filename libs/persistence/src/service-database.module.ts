import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ensureDatabase, migrateSchema } from './prepare-database';
import { serviceDataSourceOptions, type ServiceDataSourceInput } from './service-data-source';

/**
 * The service's TypeORM connection, opened only after its database exists and its schema is
 * migrated: a service that starts is a service whose tables are current.
 */
export function serviceDatabaseModule(input: ServiceDataSourceInput): DynamicModule {
  const options = serviceDataSourceOptions(input);
  return TypeOrmModule.forRootAsync({
    useFactory: async () => {
      await ensureDatabase(input.url);
      await migrateSchema(options);
      // Feature modules add their entities with TypeOrmModule.forFeature.
      return { ...options, autoLoadEntities: true };
    },
  });
}
