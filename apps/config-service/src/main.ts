import 'reflect-metadata';
import { runService, startOrExit } from '@pacslink/platform';
import { AppModule } from './app.module';
import { CONFIG_SERVICE, DEFAULT_HTTP_PORT, loadConfigServiceEnv } from './config';
import { configureHttp } from './http/configure-http';
import { ROTATE_SECRETS, rotateSecrets } from './rotate-secrets.command';

async function main(): Promise<void> {
  const env = loadConfigServiceEnv();
  await runService(AppModule.forRoot(env), {
    service: CONFIG_SERVICE,
    port: env.HTTP_PORT ?? DEFAULT_HTTP_PORT,
    configure: (app) => configureHttp(app, env),
  });
}

/** `main.js rotate-secrets`: one report line (JSON, as the logs); exit code 1 when a secret could not be read. */
async function rotate(): Promise<void> {
  const report = await rotateSecrets(loadConfigServiceEnv());
  const failed = report.failed.length > 0;
  const line = { level: failed ? 50 : 30, time: Date.now(), service: CONFIG_SERVICE, msg: 'secrets rotated' };
  process.stdout.write(`${JSON.stringify({ ...line, ...report })}\n`);
  if (failed) process.exitCode = 1;
}

const command = process.argv[2];
startOrExit(
  CONFIG_SERVICE,
  command === undefined
    ? main
    : command === ROTATE_SECRETS
      ? rotate
      : () => Promise.reject(new Error(`unknown command "${command}": the one command is ${ROTATE_SECRETS}`)),
);
