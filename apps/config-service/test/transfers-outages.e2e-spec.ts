import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ConsumerQueues, ExportBatchReports, deadLetterQueueOf } from '@pacslink/contracts';
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
import { startDicomwebWorker, startDimseWorker } from './workers.harness';

// Outages that must not fail a transfer by themselves (contract, "Delivery guarantees"; issue 10,
// defects 1, 7 and 9): the database refusing connections mid-export, a batch command the broker
// dead-lettered for its delivery count, a command that waited in its queue past its dispatch lease,
// and a config-service whose clock is not the database's. config-service reaches Postgres through
// a TCP proxy of the test's own, so the database can be cut without disturbing other tests.
jest.setTimeout(300_000);

const MAX_ATTEMPTS = 3;
const DISPATCH_LEASE_MS = 3_000;

/**
 * Runs this process's clock `aheadMs` ahead of the database's (config-service and the workers run in
 * the test's process): `Date.now()` and `new Date()` say so, dates built from a value stay as given.
 */
function skewClock(aheadMs: number): () => void {
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + aheadMs);
      else super(...(args as [number, number]));
    }

    static override now(): number {
      return RealDate.now() + aheadMs;
    }
  }
  globalThis.Date = SkewedDate as DateConstructor;
  return () => {
    globalThis.Date = RealDate;
  };
}

interface TransferBody {
  id: string;
  status: string;
  attempts: number;
  error?: string;
  progress: { total: number; completed: number; failed: number };
}

describe('transfers through outages', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let database: TcpProxy;
  let broker: ScriptedWorker;
  let workDir: string;
  let storeDir: string;
  const workers: INestApplication[] = [];

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

  function completed(id: string, ms = 60_000): Promise<TransferBody> {
    return eventually(
      `transfer ${id} to complete`,
      async () => {
        const current = await transfer(id);
        if (current.status === 'failed') throw new Error(`transfer failed: ${current.error}`);
        return current.status === 'completed' ? current : undefined;
      },
      ms,
    );
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
    return study;
  }

  async function orthancOverCStore(aeTitle: string, port = peers.orthanc.port): Promise<string> {
    return service.createPacsConfig({
      type: 'dimse',
      aeTitle,
      name: `Orthanc (${aeTitle})`,
      host: port === peers.orthanc.port ? peers.orthanc.host : '127.0.0.1',
      port,
      cStore: true,
      timeoutMs: 10_000,
    });
  }

  async function stopWorkers(): Promise<void> {
    for (const worker of workers.splice(0)) await worker.close();
  }

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-outages-e2e-'));
    storeDir = join(workDir, 'store');
    service = await startConfigService({
      env: {
        SECRETS_KEY: secretsKey,
        STORE_DIR: storeDir,
        TRANSFER_RETRY_BASE_MS: '300',
        TRANSFER_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        TRANSFER_DISPATCH_LEASE_MS: String(DISPATCH_LEASE_MS),
        TRANSFER_LEASE_MS: '15000',
      },
      beforeBoot: async ({ database: db }) => {
        const url = new URL(db.url);
        database = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
        url.host = `127.0.0.1:${database.port}`;
        return { DATABASE_URL: url.toString() };
      },
    });
    broker = await ScriptedWorker.connect(service.vhost.url);
    const response = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(response.status).toBe(200);
  });

  afterEach(stopWorkers);

  afterAll(async () => {
    await broker?.close();
    await service?.stop();
    await database?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('a command that waits in its queue past its dispatch lease costs no attempt (defect 7)', async () => {
    // No worker: the command waits, its dispatch lease runs out again and again.
    const study = await storedStudy(3);
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    const id = await exportStudy(await orthancOverCStore('ORTHANC_BACKLOG'), study);
    await new Promise((resolve) => setTimeout(resolve, (MAX_ATTEMPTS + 1) * DISPATCH_LEASE_MS));
    const waiting = await transfer(id);
    expect(waiting).toMatchObject({ status: 'queued', attempts: 0 });

    workers.push(await startDimseWorker(service.vhost.url, secretsKey, { STORE_DIR: storeDir }));
    const done = await completed(id);
    expect(done.attempts).toBe(1);
    expect(await inOrthanc(study)).toBe(3);
    const sql = await service.connectSql();
    const { rows } = await sql.query<{ attempt: number; failures: number }>(
      `SELECT attempt, failures FROM transfer_batch WHERE transfer_id = $1`,
      [id],
    );
    // Dispatched again each time its lease ran out (the stale commands were dropped at their claim).
    expect(rows[0].attempt).toBeGreaterThan(MAX_ATTEMPTS);
    expect(rows[0].failures).toBe(0);
  });

  it('a batch the broker dead-lettered for its delivery count goes again; the reason counts the deliveries (defects 1, 9)', async () => {
    // The test plays a worker that cannot get its claim answered, as today's worker rejected the
    // delivery: six deliveries, and the queue's delivery limit (5) dead-letters the command.
    const study = await storedStudy(3);
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    const id = await exportStudy(await orthancOverCStore('ORTHANC_DLIMIT'), study);
    const first = await broker.takeDimseCommand(id);
    broker.channel.reject(first.message, true);
    for (let delivery = 2; delivery <= 6; delivery++) {
      const again = await broker.takeDimseCommand(id);
      expect(again.message.properties.messageId).toBe(first.message.properties.messageId);
      broker.channel.reject(again.message, true);
    }
    const sql = await service.connectSql();
    const lastError = await eventually('the dead letter to reach config-service', async () => {
      const { rows } = await sql.query<{ last_error: string | null }>(
        `SELECT last_error FROM transfer_batch WHERE transfer_id = $1`,
        [id],
      );
      return rows[0]?.last_error ?? undefined;
    });
    expect(lastError).toBe(
      'the worker could not handle batch 1 and dead-lettered it: delivered 6 times from ' +
        `${ConsumerQueues.DimseWorkerCommands.name} without being acknowledged (the queue's delivery limit is 5)`,
    );
    expect((await transfer(id)).status).toBe('queued');

    workers.push(await startDimseWorker(service.vhost.url, secretsKey, { STORE_DIR: storeDir }));
    const done = await completed(id);
    expect(done.attempts).toBe(2);
    expect(await inOrthanc(study)).toBe(3);
    const { rows } = await sql.query<{ attempt: number; failures: number }>(
      `SELECT attempt, failures FROM transfer_batch WHERE transfer_id = $1`,
      [id],
    );
    expect(rows).toEqual([{ attempt: 2, failures: 1 }]);
  });

  it("a failed attempt waits out its backoff by the database's clock, not config-service's own (defect 7)", async () => {
    const study = await storedStudy(3);
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    const pacs = await orthancOverCStore('ORTHANC_CLOCK');
    const restoreClock = skewClock(10 * 60_000);
    try {
      const id = await exportStudy(pacs, study);
      // The test plays the first worker: it claims the batch and ends it with a transient failure.
      const { message, batch } = await broker.takeDimseCommand(id);
      const claimant = randomUUID();
      expect(await broker.claim(batch, claimant)).toEqual({ go: true });
      await broker.publish(ExportBatchReports.Finished, {
        transferId: batch.transferId,
        batchId: batch.batchId,
        attempt: batch.attempt,
        claimant,
        outcomes: [],
        failure: { transient: true, reason: 'association rejected (transient): no resources' },
      });
      broker.channel.ack(message);
      // The retry is due ~0.3 s later by the database's clock; by a clock 10 min ahead, in 10 min.
      workers.push(await startDimseWorker(service.vhost.url, secretsKey, { STORE_DIR: storeDir }));
      const done = await completed(id, 30_000);
      expect(done.attempts).toBe(2);
      expect(await inOrthanc(study)).toBe(3);
    } finally {
      restoreClock();
    }
  });

  it('claims and reports wait while the database refuses connections for 20 s: nothing is lost (defects 1, 9)', async () => {
    const slow = await storedStudy(40);
    const waiting = await storedStudy(4);
    for (const study of [slow, waiting]) await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    // A sending while the database goes: its progress reports and its end arrive during the outage.
    const probe = new ConcurrencyProbe(peers.orthanc.host, peers.orthanc.port, 40);
    try {
      const slowPacs = await orthancOverCStore('ORTHANC_SLOW', await probe.start());
      const stow = await service.createPacsConfig({
        type: 'dicomweb',
        aeTitle: 'ORTHANC_STOW_DB',
        name: 'Orthanc over STOW-RS',
        url: peers.orthanc.dicomWebUrl,
        stowRs: true,
        auth: { method: 'basic', username: peers.orthanc.user, password: peers.orthanc.password },
        timeoutMs: 10_000,
      });
      workers.push(await startDimseWorker(service.vhost.url, secretsKey, { STORE_DIR: storeDir }));
      const sending = await exportStudy(slowPacs, slow);
      await eventually('the first outcomes', async () =>
        (await transfer(sending)).progress.completed >= 3 ? true : undefined,
      );
      // B is dispatched; its worker starts only once the database is gone, so its claim finds it gone.
      const claiming = await exportStudy(stow, waiting);
      await eventually('the STOW-RS batch command in its queue', async () =>
        (await broker.depth(ConsumerQueues.DicomwebWorkerCommands.name)) > 0 ? true : undefined,
      );
      const deadLetterQueues = [
        ConsumerQueues.ConfigServiceReports,
        ConsumerQueues.DimseWorkerCommands,
        ConsumerQueues.DicomwebWorkerCommands,
        ConsumerQueues.ConfigServiceDeadLetters,
      ].map((queue) => deadLetterQueueOf(queue.name));
      for (const queue of deadLetterQueues) await broker.drain(queue);
      // Still sending when the database goes (else its reports would not meet the outage).
      expect((await transfer(sending)).progress.completed).toBeLessThan(40);
      await database.cut();
      workers.push(await startDicomwebWorker(service.vhost.url, secretsKey, { STORE_DIR: storeDir }));
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      await database.restore();

      const [sent, claimed] = [await completed(sending), await completed(claiming)];
      expect(sent).toMatchObject({ attempts: 1, progress: { total: 40, completed: 40, failed: 0 } });
      expect(claimed).toMatchObject({ attempts: 1, progress: { total: 4, completed: 4, failed: 0 } });
      expect(await inOrthanc(slow)).toBe(40);
      expect(await inOrthanc(waiting)).toBe(4);
      expect(probe.maxOpen).toBe(1);
      // No report dead-lettered (lost), no batch command either. Claims that expired unanswered
      // while every consumer slot waited for the database are the only dead letters allowed.
      const [reports, ...others] = await Promise.all(deadLetterQueues.map((queue) => broker.drain(queue)));
      expect(
        reports.map((report) => report.type).filter((type) => type !== ExportBatchReports.Claim.type),
      ).toEqual([]);
      expect(others.flat().map((letter) => letter.type)).toEqual([]);
    } finally {
      await database.restore();
      await probe.stop();
    }
  });
});
