import './tracing';
import 'reflect-metadata';
import { runService, startOrExit } from '@pacslink/platform';
import { configureStoreIo, storeIoLogLine } from '@pacslink/store';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { DEFAULT_HTTP_PORT, DIMSE_WORKER, loadDimseWorkerEnv } from './config';

async function main(): Promise<void> {
  const env = loadDimseWorkerEnv();
  // Before the application: every store it makes reads and writes in the chosen mode.
  const storeIo = configureStoreIo(env.STORE_DIR, env.STORE_IO);
  const app = await runService(AppModule.forRoot(env), {
    service: DIMSE_WORKER,
    port: env.HTTP_PORT ?? DEFAULT_HTTP_PORT,
  });
  app.get(Logger).log(storeIoLogLine(storeIo), 'StudyStore');
}

startOrExit(DIMSE_WORKER, main);
