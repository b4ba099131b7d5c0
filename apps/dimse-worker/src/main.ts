import './tracing';
import 'reflect-metadata';
import { runService, startOrExit } from '@pacslink/platform';
import { AppModule } from './app.module';
import { DEFAULT_HTTP_PORT, DIMSE_WORKER, loadDimseWorkerEnv } from './config';

async function main(): Promise<void> {
  const env = loadDimseWorkerEnv();
  await runService(AppModule.forRoot(env), {
    service: DIMSE_WORKER,
    port: env.HTTP_PORT ?? DEFAULT_HTTP_PORT,
  });
}

startOrExit(DIMSE_WORKER, main);
