import type { INestApplication } from '@nestjs/common';
import { loadEnv, runService } from '@pacslink/platform';
import { baseUrlOf, waitUntilReady } from '@pacslink/testing';
/* eslint-disable @nx/enforce-module-boundaries --
 * End-to-end tests run config-service and the workers in one process: the workers boot through
 * their own AppModule, as their main.ts does. Runtime code never imports another app. */
import { AppModule as DicomwebWorkerModule } from '../../dicomweb-worker/src/app.module';
import { DICOMWEB_WORKER, DicomwebWorkerEnv } from '../../dicomweb-worker/src/config';
import { AppModule as DimseWorkerModule } from '../../dimse-worker/src/app.module';
import { DIMSE_WORKER, DimseWorkerEnv } from '../../dimse-worker/src/config';
/* eslint-enable @nx/enforce-module-boundaries */

/**
 * dicomweb-worker and dimse-worker on `amqpUrl`, ready; close each app when done. `env` goes over
 * the defaults (e.g. STORE_DIR, which must be config-service's).
 */
export async function startWorkers(
  amqpUrl: string,
  secretsKey: string,
  extraEnv: Record<string, string> = {},
): Promise<INestApplication[]> {
  const env = { AMQP_URL: amqpUrl, LOG_LEVEL: 'silent', SECRETS_KEY: secretsKey, ...extraEnv };
  const workers = [
    await runService(DicomwebWorkerModule.forRoot(loadEnv(DicomwebWorkerEnv, env)), {
      service: DICOMWEB_WORKER,
      port: 0,
    }),
    await runService(DimseWorkerModule.forRoot(loadEnv(DimseWorkerEnv, env)), {
      service: DIMSE_WORKER,
      port: 0,
    }),
  ];
  for (const worker of workers) {
    const ready = await waitUntilReady(baseUrlOf(worker));
    if (ready.status !== 200) throw new Error(`a worker did not become ready: ${await ready.text()}`);
  }
  return workers;
}
