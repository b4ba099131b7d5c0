import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { connect } from 'amqplib';
import { ConsumerQueues, Exchanges, deadLetterQueueOf } from '@pacslink/contracts';
import { DEAD_LETTER_REASON_HEADER } from '@pacslink/messaging';
import {
  TcpProxy,
  eventually,
  uploadToStudyStore,
  deleteStudyFromOrthanc,
  generateStudy,
  orthancRest,
  startPeers,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import { ConcurrencyProbe } from './concurrency-probe';
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { startDimseWorker } from './workers.harness';

// Transfers with several dimse-worker replicas: the per-PACS association bound holds across them,
// and a worker that dies mid-batch does not leave its transfer running.
jest.setTimeout(240_000);

describe('transfers with several dimse-worker replicas', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  const workers: INestApplication[] = [];
  let workDir: string;
  let storeDir: string;
  const studies: GeneratedStudy[] = [];

  const create = (body: Record<string, unknown>) => service.createPacsConfig(body);

  async function exportStudy(pacsConfigId: string, study: GeneratedStudy): Promise<string> {
    const response = await service.call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  async function transfer(id: string): Promise<{ status: string; attempts: number; error?: string }> {
    return (await (await service.call('GET', `/transfers/${id}`)).json()) as {
      status: string;
      attempts: number;
    };
  }

  function completed(id: string) {
    return eventually(`transfer ${id} to end`, async () => {
      const current = await transfer(id);
      if (current.status === 'failed') throw new Error(`transfer failed: ${current.error}`);
      return current.status === 'completed' ? current : undefined;
    });
  }

  async function inOrthanc(study: GeneratedStudy): Promise<number> {
    const found = (await orthancRest(peers.orthanc, 'POST', '/tools/find', {
      Level: 'Instance',
      Query: { StudyInstanceUID: study.studyInstanceUid },
    })) as string[];
    return found.length;
  }

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-replicas-e2e-'));
    storeDir = join(workDir, 'store');
    service = await startConfigService({
      // A short lease: a worker that lost the broker mid-batch is taken over once it ran out.
      env: {
        SECRETS_KEY: secretsKey,
        STORE_DIR: storeDir,
        TRANSFER_RETRY_BASE_MS: '300',
        TRANSFER_LEASE_MS: '10000',
      },
    });
    const response = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(response.status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 6 });
      studies.push(study);
      const upload = await uploadToStudyStore(service.baseUrl, service.apiKey, study.files);
      expect(upload.status).toBe(200);
    }
  });

  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('fails a transfer at once when a worker dead-letters its batch, with the reason', async () => {
    // No worker runs yet: the batch command waits in the dimse-worker queue. The test takes it and
    // dead-letters it exactly as a worker's consumer does with a command it cannot handle.
    const pacsConfigId = await create({
      type: 'dimse',
      aeTitle: 'ORTHANC_DLQ',
      name: 'Orthanc, batch dead-lettered',
      host: peers.orthanc.host,
      port: peers.orthanc.port,
      cStore: true,
      timeoutMs: 10_000,
    });
    const id = await exportStudy(pacsConfigId, studies[0]);
    const broker = await connect(service.vhost.url);
    try {
      const channel = await broker.createConfirmChannel();
      const command = await eventually('the batch command in the dimse-worker queue', async () => {
        const message = await channel.get(ConsumerQueues.DimseWorkerCommands.name, { noAck: false });
        return message === false ? undefined : message;
      });
      const reason = 'invalid dimse.export-batch: instances must contain at least 1 elements';
      channel.publish(Exchanges.DeadLetter, ConsumerQueues.DimseWorkerCommands.name, command.content, {
        ...command.properties,
        headers: { [DEAD_LETTER_REASON_HEADER]: reason },
      });
      await channel.waitForConfirms();
      channel.ack(command);
      const failed = await eventually('the transfer to fail', async () => {
        const current = await transfer(id);
        return current.status === 'failed' ? current : undefined;
      });
      expect(failed.error).toBe(`the worker could not handle batch 1 and dead-lettered it: ${reason}`);
      // The worker queue's own dead-letter queue still holds it, for people to look at.
      const kept = await channel.get(deadLetterQueueOf(ConsumerQueues.DimseWorkerCommands.name));
      expect(kept && kept.properties.messageId).toBe(command.properties.messageId);
    } finally {
      await broker.close();
    }
  });

  it.each([1, 2])(
    'never opens more than maxAssociations (%i) associations to one PACS, across two replicas',
    async (maxAssociations) => {
      if (workers.length === 0) {
        for (let i = 0; i < 2; i++) {
          workers.push(await startDimseWorker(service.vhost.url, secretsKey, { STORE_DIR: storeDir }));
        }
      }
      const probe = new ConcurrencyProbe(peers.orthanc.host, peers.orthanc.port, 15);
      try {
        const pacsConfigId = await create({
          type: 'dimse',
          aeTitle: `ORTHANC_MAX${maxAssociations}`,
          name: `Orthanc, ${maxAssociations} association(s)`,
          host: '127.0.0.1',
          port: await probe.start(),
          cStore: true,
          maxAssociations,
          timeoutMs: 10_000,
        });
        for (const study of studies) await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
        const ids = await Promise.all(studies.map((study) => exportStudy(pacsConfigId, study)));
        for (const id of ids) await completed(id);
        for (const study of studies) expect(await inOrthanc(study)).toBe(6);
        expect(probe.maxOpen).toBeGreaterThanOrEqual(1);
        expect(probe.maxOpen).toBeLessThanOrEqual(maxAssociations);
      } finally {
        await probe.stop();
      }
    },
  );

  it('finishes a transfer on another replica when the worker sending it loses the broker', async () => {
    for (const worker of workers.splice(0)) await worker.close();
    const study = studies[0];
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    const vhost = new URL(service.vhost.url);
    const brokerLink = await new TcpProxy(vhost.hostname, Number(vhost.port || 5672)).start();
    const pacsLink = await new TcpProxy(peers.orthanc.host, peers.orthanc.port).start();
    const doomedUrl = new URL(service.vhost.url);
    doomedUrl.port = String(brokerLink.port);
    const doomed = await startDimseWorker(doomedUrl.toString(), secretsKey, { STORE_DIR: storeDir });
    try {
      const pacsConfigId = await create({
        type: 'dimse',
        aeTitle: 'ORTHANC_FAILOVER',
        name: 'Orthanc behind a link that hangs',
        host: '127.0.0.1',
        port: pacsLink.port,
        cStore: true,
        timeoutMs: 20_000,
      });
      // The association hangs, so the first worker is caught mid-batch when it loses the broker.
      pacsLink.blackhole();
      const id = await exportStudy(pacsConfigId, study);
      await eventually('the first worker to claim the batch', async () =>
        (await transfer(id)).status === 'running' ? true : undefined,
      );
      await brokerLink.cut();
      await pacsLink.restore();
      workers.push(await startDimseWorker(service.vhost.url, secretsKey, { STORE_DIR: storeDir }));

      const done = await completed(id);
      // The command RabbitMQ redelivered to the new replica waited while the first worker's lease
      // was live (it might still have been sending: issue 10, defect 8), then took the same attempt
      // over: the silent worker's attempt counts as failed, and no new command was dispatched.
      expect(done.attempts).toBe(2);
      const sql = await service.connectSql();
      const { rows } = await sql.query<{ attempt: number; failures: number }>(
        `SELECT attempt, failures FROM transfer_batch WHERE transfer_id = $1`,
        [id],
      );
      expect(rows).toEqual([{ attempt: 1, failures: 1 }]);
      expect(await inOrthanc(study)).toBe(6);
    } finally {
      await doomed.close();
      await brokerLink.close();
      await pacsLink.close();
    }
  });
});
