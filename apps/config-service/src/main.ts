import './tracing';
import 'reflect-metadata';
import { MIGRATE, migrateCommand } from '@pacslink/persistence';
import { runService, startOrExit } from '@pacslink/platform';
import { configureStoreIo, storeIoLogLine } from '@pacslink/store';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { CONFIG_SCHEMA, CONFIG_SERVICE, DEFAULT_HTTP_PORT, loadConfigServiceEnv } from './config';
import { configureHttp } from './http/configure-http';
import { configServiceMigrations } from './migrations';
import { ROTATE_SECRETS, rotateSecrets } from './rotate-secrets.command';

async function main(): Promise<void> {
  const env = loadConfigServiceEnv();
  // Before the application: every store it makes reads and writes in the chosen mode.
  const storeIo = configureStoreIo(env.STORE_DIR, env.STORE_IO);
  const app = await runService(AppModule.forRoot(env), {
    service: CONFIG_SERVICE,
    port: env.HTTP_PORT ?? DEFAULT_HTTP_PORT,
    configure: (app) => configureHttp(app, env),
  });
  app.get(Logger).log(storeIoLogLine(storeIo), 'StudyStore');
}

/** `main.js rotate-secrets`: one report line (JSON, as the logs); exit code 1 when a secret could not be read. */
async function rotate(): Promise<void> {
  const report = await rotateSecrets(loadConfigServiceEnv());
  const failed = report.failed.length > 0;
  const line = {
    level: failed ? 'error' : 'info',
    time: Date.now(),
    service: CONFIG_SERVICE,
    msg: 'secrets rotated',
  };
  process.stdout.write(`${JSON.stringify({ ...line, ...report })}\n`);
  if (failed) process.exitCode = 1;
}

/** `main.js migrate`: the schema's migrations, as the migrate Job runs them (docs/operations/database.md). */
const migrate = () =>
  migrateCommand({ service: CONFIG_SERVICE, schema: CONFIG_SCHEMA, migrations: configServiceMigrations });

const commands: Record<string, () => Promise<void>> = { [ROTATE_SECRETS]: rotate, [MIGRATE]: migrate };
const command = process.argv[2];
startOrExit(
  CONFIG_SERVICE,
  command === undefined
    ? main
    : (commands[command] ??
        (() =>
          Promise.reject(
            new Error(`unknown command "${command}": the commands are ${Object.keys(commands).join(', ')}`),
          ))),
);
