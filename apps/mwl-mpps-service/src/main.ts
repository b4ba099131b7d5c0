import './tracing';
import 'reflect-metadata';
import { MIGRATE, migrateCommand } from '@pacslink/persistence';
import { runService, startOrExit } from '@pacslink/platform';
import { AppModule } from './app.module';
import { DEFAULT_HTTP_PORT, MWL_MPPS_SERVICE, MWL_SCHEMA, loadMwlMppsEnv } from './config';
import { mwlMppsMigrations } from './migrations';

async function main(): Promise<void> {
  const env = loadMwlMppsEnv();
  await runService(AppModule.forRoot(env), {
    service: MWL_MPPS_SERVICE,
    port: env.HTTP_PORT ?? DEFAULT_HTTP_PORT,
  });
}

/** `main.js migrate`: the schema's migrations, as the migrate Job runs them (docs/operations/database.md). */
const migrate = () =>
  migrateCommand({ service: MWL_MPPS_SERVICE, schema: MWL_SCHEMA, migrations: mwlMppsMigrations });

const command = process.argv[2];
startOrExit(
  MWL_MPPS_SERVICE,
  command === undefined
    ? main
    : command === MIGRATE
      ? migrate
      : () => Promise.reject(new Error(`unknown command "${command}": the one command is ${MIGRATE}`)),
);
