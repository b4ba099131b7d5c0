import './tracing';
import 'reflect-metadata';
import { runService, startOrExit } from '@pacslink/platform';
import { AppModule } from './app.module';
import { DEFAULT_HTTP_PORT, DICOMWEB_WORKER, loadDicomwebWorkerEnv } from './config';

async function main(): Promise<void> {
  const env = loadDicomwebWorkerEnv();
  await runService(AppModule.forRoot(env), {
    service: DICOMWEB_WORKER,
    port: env.HTTP_PORT ?? DEFAULT_HTTP_PORT,
  });
}

startOrExit(DICOMWEB_WORKER, main);
