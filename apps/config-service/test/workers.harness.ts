import type { INestApplication } from '@nestjs/common';
import { loadEnv, runService } from '@pacslink/platform';
import { baseUrlOf, testEgressEnv, waitUntilReady } from '@pacslink/testing';
/* eslint-disable @nx/enforce-module-boundaries --
 * End-to-end tests run config-service and the workers in one process: the workers boot through
 * their own AppModule, as their main.ts does. Runtime code never imports another app. */
import { AppModule as DicomwebWorkerModule } from '../../dicomweb-worker/src/app.module';
import { DICOMWEB_WORKER, DicomwebWorkerEnv } from '../../dicomweb-worker/src/config';
import { AppModule as DimseWorkerModule } from '../../dimse-worker/src/app.module';
import { DIMSE_WORKER, DimseWorkerEnv } from '../../dimse-worker/src/config';
/* eslint-enable @nx/enforce-module-boundaries */

type WorkerEnv = Record<string, string>;

async function ready(worker: INestApplication): Promise<INestApplication> {
  const answer = await waitUntilReady(baseUrlOf(worker));
  if (answer.status !== 200) throw new Error(`a worker did not become ready: ${await answer.text()}`);
  return worker;
}

/** As a deployment runs them: the egress policy on, PACS peers allowed on loopback (testEgressEnv). */
function workerEnv(amqpUrl: string, secretsKey: string, extraEnv: WorkerEnv): WorkerEnv {
  // SCP_PORT 0: dimse-worker's Storage SCP on any free port (many workers share one host in tests).
  return {
    AMQP_URL: amqpUrl,
    LOG_LEVEL: 'silent',
    SECRETS_KEY: secretsKey,
    SCP_PORT: '0',
    ...testEgressEnv(),
    ...extraEnv,
  };
}

/** One dimse-worker on `amqpUrl`, ready (a replica, for tests of several). */
export async function startDimseWorker(
  amqpUrl: string,
  secretsKey: string,
  extraEnv: WorkerEnv = {},
): Promise<INestApplication> {
  const env = loadEnv(DimseWorkerEnv, workerEnv(amqpUrl, secretsKey, extraEnv));
  return ready(await runService(DimseWorkerModule.forRoot(env), { service: DIMSE_WORKER, port: 0 }));
}

/** One dicomweb-worker on `amqpUrl`, ready; `extraEnv` e.g. SECRETS_PREVIOUS_KEYS. */
export async function startDicomwebWorker(
  amqpUrl: string,
  secretsKey: string,
  extraEnv: WorkerEnv = {},
): Promise<INestApplication> {
  const env = loadEnv(DicomwebWorkerEnv, workerEnv(amqpUrl, secretsKey, extraEnv));
  return ready(await runService(DicomwebWorkerModule.forRoot(env), { service: DICOMWEB_WORKER, port: 0 }));
}

/**
 * dicomweb-worker and dimse-worker on `amqpUrl`, ready; close each app when done. `extraEnv` goes
 * over the defaults (e.g. STORE_DIR, which must be config-service's).
 */
export async function startWorkers(
  amqpUrl: string,
  secretsKey: string,
  extraEnv: WorkerEnv = {},
): Promise<INestApplication[]> {
  const dicomweb = await startDicomwebWorker(amqpUrl, secretsKey, extraEnv);
  return [dicomweb, await startDimseWorker(amqpUrl, secretsKey, extraEnv)];
}
