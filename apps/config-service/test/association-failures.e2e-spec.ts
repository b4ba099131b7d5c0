import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { baseUrlOf, eventually, generateStudy, uploadToStudyStore } from '@pacslink/testing';
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { startDimseWorker } from './workers.harness';

// pacslink_association_failures_total{pacs_config,reason} on the worker that could not reach the
// PACS: config-service names the configuration in the batch command, the worker counts the
// failure it classified (real RabbitMQ and Postgres, a real dimse-worker, a port nobody listens on).
jest.setTimeout(120_000);

/** A loopback port that was free a moment ago and has no listener now: connecting is refused. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('association failures by PACS and reason (real RabbitMQ, Postgres, dimse-worker)', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let service: RunningConfigService;
  let worker: INestApplication;
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-association-failures-e2e-'));
    service = await startConfigService({
      env: { SECRETS_KEY: secretsKey, STORE_DIR: join(workDir, 'store'), TRANSFER_RETRY_BASE_MS: '200' },
    });
    worker = await startDimseWorker(service.vhost.url, secretsKey, { STORE_DIR: join(workDir, 'store') });
    const settings = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(settings.status).toBe(200);
  });

  afterAll(async () => {
    await worker?.close();
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('counts a refused connection under the configuration id and reason "refused"', async () => {
    const pacsConfigId = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'NOT_LISTENING',
      name: 'Nothing listens on its port',
      host: '127.0.0.1',
      port: await closedPort(),
      cStore: true,
      timeoutMs: 5_000,
    });
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 1 });
    expect((await uploadToStudyStore(service.baseUrl, service.apiKey, study.files)).status).toBe(200);
    const response = await service.call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
    });
    expect(response.status).toBe(202);

    // prom-client may put the default label (service) first or last: labels matched in any order.
    const counted = (text: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith('pacslink_association_failures_total{'))
        .filter((line) =>
          [`pacs_config="${pacsConfigId}"`, 'reason="refused"', 'service="dimse-worker"'].every((label) =>
            line.includes(label),
          ),
        )
        .map((line) => Number(line.split(' ').pop()));
    const failures = await eventually('the refusal counted', async () => {
      const text = await (await fetch(`${baseUrlOf(worker)}/metrics`)).text();
      const [count] = counted(text);
      return count;
    });
    expect(failures).toBeGreaterThanOrEqual(1);
  });
});
