import type { MixedList } from 'typeorm';
import { preparedByPlatform } from './database-mode';
import { databaseNameOf } from './database-url';
import { ensureDatabase, migrateSchema } from './prepare-database';
import { serviceDataSourceOptions } from './service-data-source';

/** The command line that runs it: `node dist/apps/<app>/main.js migrate` (the Kubernetes migrate Job). */
export const MIGRATE = 'migrate';

export interface MigrateCommandInput {
  service: string;
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  env?: NodeJS.ProcessEnv;
}

/**
 * `main.js migrate`: creates the service's schema if absent and applies its pending migrations, as
 * MIGRATE_DATABASE_URL's role (the schema's owner; else DATABASE_URL's). Outside production it
 * creates the database too, as the service would at boot. One log line (JSON, as the logs) names
 * what it applied; a failure is one error line and exit code 1.
 */
export async function migrateCommand(input: MigrateCommandInput): Promise<void> {
  const env = input.env ?? process.env;
  const line = (level: 'info' | 'error', msg: string, fields: Record<string, unknown>) =>
    `${JSON.stringify({ level, time: Date.now(), service: input.service, msg, schema: input.schema, ...fields })}\n`;
  try {
    const url = env.MIGRATE_DATABASE_URL || env.DATABASE_URL;
    if (!url) throw new Error('MIGRATE_DATABASE_URL (or DATABASE_URL) must name the database to migrate');
    const database = databaseNameOf(url);
    const byPlatform = preparedByPlatform(env);
    if (!byPlatform) await ensureDatabase(url);
    const options = serviceDataSourceOptions({
      url,
      schema: input.schema,
      entities: [],
      migrations: input.migrations,
      poolSize: 2,
      searchPathByRole: byPlatform,
    });
    const applied = await migrateSchema(options, byPlatform);
    const msg = applied.length > 0 ? 'migrations applied' : 'schema up to date';
    process.stdout.write(line('info', msg, { database, applied }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(line('error', 'migrate failed', { reason }));
    process.exitCode = 1;
  }
}
