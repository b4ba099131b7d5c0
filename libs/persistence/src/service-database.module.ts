import { relative } from 'node:path';
import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { preparedByPlatform } from './database-mode';
import { MIGRATE } from './migrate-command';
import { ensureDatabase, migrateSchema, verifySchemaReady } from './prepare-database';
import { serviceDataSourceOptions, type ServiceDataSourceInput } from './service-data-source';

/**
 * The service's TypeORM connection, opened only once its schema is current: a service that starts
 * is a service whose tables are current. Outside production it creates the database and migrates
 * at boot; in production (preparedByPlatform) it only verifies, and refuses to start otherwise.
 */
export function serviceDatabaseModule(input: ServiceDataSourceInput): DynamicModule {
  const byPlatform = preparedByPlatform();
  const options = serviceDataSourceOptions({ ...input, searchPathByRole: byPlatform });
  return TypeOrmModule.forRootAsync({
    useFactory: async () => {
      if (byPlatform) {
        await verifySchemaReady(options, migrateCommandLine());
      } else {
        await ensureDatabase(input.url);
        await migrateSchema(options);
      }
      // Feature modules add their entities with TypeOrmModule.forFeature.
      return { ...options, autoLoadEntities: true };
    },
  });
}

/** This process's own entry point with the migrate command: `node dist/apps/<app>/main.js migrate`. */
function migrateCommandLine(): string {
  const main = process.argv[1] ? relative(process.cwd(), process.argv[1]) : 'dist/apps/<app>/main.js';
  return `node ${main} ${MIGRATE}`;
}
