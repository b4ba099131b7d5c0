import 'reflect-metadata';
import { runService, startOrExit } from '@pacslink/platform';
import { AppModule } from './app.module';
import { DEFAULT_HTTP_PORT, MWL_MPPS_SERVICE, loadMwlMppsEnv } from './config';

async function main(): Promise<void> {
  const env = loadMwlMppsEnv();
  await runService(AppModule.forRoot(env), {
    service: MWL_MPPS_SERVICE,
    port: env.HTTP_PORT ?? DEFAULT_HTTP_PORT,
  });
}

startOrExit(MWL_MPPS_SERVICE, main);
