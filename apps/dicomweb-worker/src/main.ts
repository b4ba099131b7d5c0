import './tracing';
import 'reflect-metadata';
import { runService, startOrExit } from '@pacslink/platform';
import { configureStoreIo, storeIoLogLine } from '@pacslink/store';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { DEFAULT_HTTP_PORT, DICOMWEB_WORKER, loadDicomwebWorkerEnv } from './config';

async function main(): Promise<void> {
  const env = loadDicomwebWorkerEnv();
  // Before the application: every store it makes reads and writes in the chosen mode.
  const storeIo = configureStoreIo(env.STORE_DIR, env.STORE_IO);
  const app = await runService(AppModule.forRoot(env), {
    service: DICOMWEB_WORKER,
    port: env.HTTP_PORT ?? DEFAULT_HTTP_PORT,
  });
  app.get(Logger).log(storeIoLogLine(storeIo), 'StudyStore');
}

startOrExit(DICOMWEB_WORKER, main);
