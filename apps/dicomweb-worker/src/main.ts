import 'reflect-metadata';
import { runService } from '@pacslink/platform';
import { AppModule } from './app.module';
import { DEFAULT_HTTP_PORT, DICOMWEB_WORKER, loadDicomwebWorkerEnv } from './config';

async function main(): Promise<void> {
  const env = loadDicomwebWorkerEnv();
  await runService(AppModule.forRoot(env), {
    service: DICOMWEB_WORKER,
    port: env.HTTP_PORT ?? DEFAULT_HTTP_PORT,
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
