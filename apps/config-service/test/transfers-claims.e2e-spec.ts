import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { GetMessage } from 'amqplib';
import {
  ConsumerQueues,
  ExportBatchReports,
  type Envelope,
  type ExportBatchFinishedData,
} from '@pacslink/contracts';
import {
  TcpProxy,
  deleteStudyFromOrthanc,
  eventually,
  generateStudy,
  orthancRest,
  startPeers,
  uploadToStudyStore,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import { ConcurrencyProbe } from './concurrency-probe';
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { ScriptedWorker } from './scripted-worker';
import { startDimseWorker } from './workers.harness';

// One batch, one sender, one settlement (issue 10, defects 2 and 8): a redelivered batch command
// does not start a second association while its first run is still sending, and a finished report
// applied before the progress reports it followed settles the batch on the whole picture.
// config-service and one worker reach the broker through TCP proxies of the test's own.
jest.setTimeout(300_000);

interface TransferBody {
  id: string;
  status: string;
  attempts: number;
  error?: string;
  progress: { total: number; completed: number; failed: number };
}

/** A proxy of the test's own in front of the test vhost's broker; the URL to reach it by. */
async function brokerLink(amqpUrl: string): Promise<{ link: TcpProxy; url: string }> {
  const url = new URL(amqpUrl);
  const link = await new TcpProxy(url.hostname, Number(url.port || 5672)).start();
  url.port = String(link.port);
  return { link, url: url.toString() };
}

describe('one sender and one settlement per batch', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let serviceLink: TcpProxy;
  let broker: ScriptedWorker;
  let workDir: string;
  let storeDir: string;
  const workers: INestApplication[] = [];
  const links: TcpProxy[] = [];

  async function exportStudy(pacsConfigId: string, study: GeneratedStudy): Promise<string> {
    const response = await service.call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
    });
    const body = (await response.json()) as TransferBody;
    if (response.status !== 202) throw new Error(`${response.status}: ${JSON.stringify(body)}`);
    return body.id;
  }

  async function transfer(id: string): Promise<TransferBody> {
    return (await (await service.call('GET', `/transfers/${id}`)).json()) as TransferBody;
  }

  function ended(id: string): Promise<TransferBody> {
    return eventually(`transfer ${id} to end`, async () => {
      const current = await transfer(id);
      return ['completed', 'failed', 'cancelled'].includes(current.status) ? current : undefined;
    });
  }

  async function inOrthanc(study: GeneratedStudy): Promise<number> {
    const found = (await orthancRest(peers.orthanc, 'POST', '/tools/find', {
      Level: 'Instance',
      Query: { StudyInstanceUID: study.studyInstanceUid },
    })) as string[];
    return found.length;
  }

  async function storedStudy(instances: number): Promise<GeneratedStudy> {
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: instances });
    const upload = await uploadToStudyStore(service.baseUrl, service.apiKey, study.files);
    expect(upload.status).toBe(200);
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    return study;
  }

  async function batchOf(id: string): Promise<{ attempt: number; failures: number }> {
    const sql = await service.connectSql();
    const { rows } = await sql.query<{ attempt: number; failures: number }>(
      `SELECT attempt, failures FROM transfer_batch WHERE transfer_id = $1`,
      [id],
    );
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-claims-e2e-'));
    storeDir = join(workDir, 'store');
    service = await startConfigService({
      env: {
        SECRETS_KEY: secretsKey,
        STORE_DIR: storeDir,
        TRANSFER_RETRY_BASE_MS: '300',
        TRANSFER_LEASE_MS: '15000',
      },
      beforeBoot: async ({ vhost }) => {
        const { link, url } = await brokerLink(vhost.url);
        serviceLink = link;
        return { AMQP_URL: url };
      },
    });
    broker = await ScriptedWorker.connect(service.vhost.url);
    const response = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(response.status).toBe(200);
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.close();
    for (const link of links.splice(0)) await link.close();
    await serviceLink.restore();
  });

  afterAll(async () => {
    await broker?.close();
    await service?.stop();
    await serviceLink?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('settles on the finished report alone when it overtakes the progress reports (defect 2)', async () => {
    const study = await storedStudy(30);
    const probe = new ConcurrencyProbe(peers.orthanc.host, peers.orthanc.port, 30);
    try {
      const pacs = await service.createPacsConfig({
        type: 'dimse',
        aeTitle: 'ORTHANC_ORDER',
        name: 'Orthanc, reports out of order',
        host: '127.0.0.1',
        port: await probe.start(),
        cStore: true,
        timeoutMs: 10_000,
      });
      workers.push(await startDimseWorker(service.vhost.url, secretsKey, { STORE_DIR: storeDir }));
      const id = await exportStudy(pacs, study);
      await eventually('the worker to claim the batch', async () =>
        (await transfer(id)).status === 'running' ? true : undefined,
      );
      // config-service stops hearing the worker; its reports wait in the queue, in order.
      await serviceLink.cut();
      const progress: GetMessage[] = [];
      let finished: GetMessage | undefined;
      while (!finished) {
        const report = await broker.take(ConsumerQueues.ConfigServiceReports.name);
        const { type, data } = JSON.parse(report.content.toString()) as Envelope<ExportBatchFinishedData>;
        expect(data.transferId).toBe(id);
        if (type === ExportBatchReports.Claim.type) {
          // A claim the worker asked again while the first answer was on its way (a loaded machine):
          // its caller has the answer already; it is no report.
          broker.channel.ack(report);
          continue;
        }
        if (type === ExportBatchReports.Finished.type) finished = report;
        else progress.push(report);
      }
      const carried = (report: GetMessage) =>
        (JSON.parse(report.content.toString()) as Envelope<ExportBatchFinishedData>).data.outcomes.length;
      expect(progress.map(carried).reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0);

      // The worst order concurrent consumers can apply them in: the end first, alone.
      await broker.republish(finished);
      broker.channel.ack(finished);
      await serviceLink.restore();
      const end = await ended(id);
      expect(end).toMatchObject({ status: 'completed', attempts: 1, progress: { total: 30, completed: 30 } });
      for (const report of progress) {
        await broker.republish(report);
        broker.channel.ack(report);
      }
      await eventually('the late progress reports to be consumed', async () =>
        (await broker.depth(ConsumerQueues.ConfigServiceReports.name)) === 0 ? true : undefined,
      );
      // Nothing was sent twice, and the late reports changed nothing.
      expect(await batchOf(id)).toEqual({ attempt: 1, failures: 0 });
      expect(await transfer(id)).toMatchObject({
        status: 'completed',
        progress: { completed: 30, failed: 0 },
      });
      expect(await inOrthanc(study)).toBe(30);
    } finally {
      await probe.stop();
    }
  });

  it('a batch command the broker gives back while its worker is still sending waits: never two associations (defect 8)', async () => {
    const study = await storedStudy(60);
    const probe = new ConcurrencyProbe(peers.orthanc.host, peers.orthanc.port, 50);
    try {
      const pacs = await service.createPacsConfig({
        type: 'dimse',
        aeTitle: 'ORTHANC_ONE',
        name: 'Orthanc, one association',
        host: '127.0.0.1',
        port: await probe.start(),
        cStore: true,
        maxAssociations: 1,
        timeoutMs: 10_000,
      });
      const first = await brokerLink(service.vhost.url);
      links.push(first.link);
      workers.push(await startDimseWorker(first.url, secretsKey, { STORE_DIR: storeDir }));
      const id = await exportStudy(pacs, study);
      await eventually('the first worker to be sending', async () =>
        (await transfer(id)).progress.completed >= 2 ? true : undefined,
      );
      workers.push(await startDimseWorker(service.vhost.url, secretsKey, { STORE_DIR: storeDir }));
      // The broker closes the first worker's connection (as in a broker restart): its unacked
      // command goes back to the queue and to the other worker, while the first one still sends.
      await first.link.cut();
      await first.link.restore();
      // Still sending when the broker took its delivery back (else this test would prove nothing).
      expect((await transfer(id)).progress.completed).toBeLessThan(60);

      const end = await ended(id);
      expect(end).toMatchObject({ status: 'completed', attempts: 1, progress: { total: 60, completed: 60 } });
      expect(probe.maxOpen).toBe(1);
      expect(await batchOf(id)).toEqual({ attempt: 1, failures: 0 });
      expect(await inOrthanc(study)).toBe(60);
    } finally {
      await probe.stop();
    }
  });
});
