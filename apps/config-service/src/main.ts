import 'reflect-metadata';
import { runService, startOrExit } from '@pacslink/platform';
import { AppModule } from './app.module';
import { CONFIG_SERVICE, DEFAULT_HTTP_PORT, loadConfigServiceEnv } from './config';
import { configureHttp } from './http/configure-http';

async function main(): Promise<void> {
  const env = loadConfigServiceEnv();
  await runService(AppModule.forRoot(env), {
    service: CONFIG_SERVICE,
    port: env.HTTP_PORT ?? DEFAULT_HTTP_PORT,
    configure: (app) => configureHttp(app, env),
  });
}

startOrExit(CONFIG_SERVICE, main);
