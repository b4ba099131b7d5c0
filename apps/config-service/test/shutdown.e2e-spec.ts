import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TcpProxy,
  createTestDatabase,
  createTestVhost,
  deleteStudyFromOrthanc,
  eventually,
  generateStudy,
  orthancRest,
  startPeers,
  testEgressEnv,
  uploadToStudyStore,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import { newApiKey, startConfigService, type RunningConfigService } from './config-service.harness';
import { startServiceProcess, type LogLine, type ServiceProcess } from './service-process.harness';

// SIGTERM as a rolling update sends it, to real processes (docs/decisions/0006-transfers.md,
// "Shutdown and reporting"): a service goes unready at once and exits within its drain time; a
// dimse-worker hands its batch back at an instance boundary, with A-RELEASE, and another replica
// finishes it without two associations to a PACS that allows one; config-service ends its event
// streams instead of waiting for their clients.
jest.setTimeout(240_000);

const PDU = { A_ASSOCIATE_RQ: 0x01, P_DATA_TF: 0x04, A_RELEASE_RQ: 0x05, A_ABORT: 0x07 };

/** The PDU types a client sent on one connection (PS3.8 9.3.1: type, reserved, 4-byte length). */
class PduTypes {
  readonly types: number[] = [];
  private header = Buffer.alloc(0);
  private skip = 0;

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      const part = chunk.subarray(at, at + 6 - this.header.length);
      this.header = Buffer.concat([this.header, part]);
      at += part.length;
      if (this.header.length === 6) {
        this.types.push(this.header[0]);
        this.skip = this.header.readUInt32BE(2);
        this.header = Buffer.alloc(0);
      }
    }
  }
}

/** What a PACS link saw: associations at once, and each association's PDUs from the worker. */
async function watchedLink(peers: PeerEndpoints, delayMs: number) {
  const connections = new Map<number, PduTypes>();
  const link = await new TcpProxy(peers.orthanc.host, peers.orthanc.port, {
    delayMs,
    tapClient: (connection, chunk) => {
      const pdus = connections.get(connection) ?? new PduTypes();
      pdus.push(chunk);
      connections.set(connection, pdus);
    },
  }).start();
  const associations = () => [...connections.values()].map((pdus) => pdus.types);
  return { link, associations };
}

function logged(worker: ServiceProcess, msg: string): LogLine[] {
  return worker.logs.filter((line) => line.msg === msg);
}

/** Instances the worker has sent (its pacslink_export_instances_total, every outcome). */
async function instancesSent(worker: ServiceProcess): Promise<number> {
  const text = await fetch(`${worker.baseUrl}/metrics`).then(
    (response) => response.text(),
    () => '',
  );
  return [...text.matchAll(/^pacslink_export_instances_total\{[^}]*\} (\d+)$/gm)].reduce(
    (sum, [, value]) => sum + Number(value),
    0,
  );
}

/**
 * Polls readiness right after a signal: the first 503 (or refused connection: a service with
 * nothing left to drain may have closed its port before a poll on a loaded machine came), and how
 * long after the signal it came.
 */
async function firstUnready(service: ServiceProcess, signalledAt: number): Promise<number> {
  await eventually(
    `${service.app} to answer 503 on /health/ready`,
    async () => {
      const response = await fetch(`${service.baseUrl}/health/ready`).catch((error: unknown) => {
        if ((error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') return undefined;
        throw error;
      });
      return response === undefined || response.status === 503 ? true : undefined;
    },
    2_000,
  );
  return Date.now() - signalledAt;
}

/** Exits within `ms`, or says it did not. */
async function exitWithin(service: ServiceProcess, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), ms)));
  const exit = await Promise.race([service.exited, late]);
  clearTimeout(timer);
  if (!exit) throw new Error(`${service.app} was still running ${ms} ms after SIGTERM`);
  return exit;
}

describe('SIGTERM to a dimse-worker in the middle of a batch', () => {
  const secretsKey = randomBytes(32).toString('base64');
  const DRAIN_MS = 8_000;
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let workDir: string;
  let storeDir: string;
  let study: GeneratedStudy;
  const processes: ServiceProcess[] = [];

  async function startWorker(drainMs: number): Promise<ServiceProcess> {
    const worker = await startServiceProcess('dimse-worker', {
      AMQP_URL: service.vhost.url,
      STORE_DIR: storeDir,
      SHUTDOWN_DRAIN_MS: String(drainMs),
      ...testEgressEnv(),
    });
    processes.push(worker);
    return worker;
  }

  async function exportStudy(pacsConfigId: string): Promise<string> {
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    const response = await service.call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  function completed(id: string) {
    return eventually(`transfer ${id} to complete`, async () => {
      const response = await service.call('GET', `/transfers/${id}`);
      const current = (await response.json()) as { status: string; attempts: number; error?: string };
      if (current.status === 'failed') throw new Error(`transfer failed: ${current.error}`);
      return current.status === 'completed' ? current : undefined;
    });
  }

  async function inOrthanc(): Promise<number> {
    const found = (await orthancRest(peers.orthanc, 'POST', '/tools/find', {
      Level: 'Instance',
      Query: { StudyInstanceUID: study.studyInstanceUid },
    })) as string[];
    return found.length;
  }

  async function dimsePacs(aeTitle: string, port: number): Promise<string> {
    return service.createPacsConfig({
      type: 'dimse',
      aeTitle,
      name: aeTitle,
      host: '127.0.0.1',
      port,
      cStore: true,
      maxAssociations: 1,
      timeoutMs: 60_000,
    });
  }

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-shutdown-e2e-'));
    storeDir = join(workDir, 'store');
    service = await startConfigService({
      env: { SECRETS_KEY: secretsKey, STORE_DIR: storeDir, TRANSFER_RETRY_BASE_MS: '200' },
    });
    const settings = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(settings.status).toBe(200);
    study = await generateStudy(workDir, { series: 1, instancesPerSeries: 12 });
    expect((await uploadToStudyStore(service.baseUrl, service.apiKey, study.files)).status).toBe(200);
  });

  afterAll(async () => {
    for (const running of processes) await running.stop();
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('goes unready at once, releases at an instance boundary, reports, exits; another replica finishes alone', async () => {
    const { link, associations } = await watchedLink(peers, 150);
    try {
      const workers = [await startWorker(DRAIN_MS), await startWorker(DRAIN_MS)];
      const id = await exportStudy(await dimsePacs('ORTHANC_SIGTERM', link.port));
      const sender = await eventually('a worker to have sent two instances', async () => {
        for (const worker of workers) if ((await instancesSent(worker)) >= 2) return worker;
        return undefined;
      });
      const other = workers.find((worker) => worker !== sender) as ServiceProcess;

      const signalledAt = Date.now();
      sender.kill('SIGTERM');
      expect(await firstUnready(sender, signalledAt)).toBeLessThan(1_000);
      // Still alive and draining: liveness holds, so Kubernetes does not kill it early.
      expect((await fetch(`${sender.baseUrl}/health/live`)).status).toBe(200);

      const exit = await exitWithin(sender, DRAIN_MS + 2_000);
      expect(exit).toMatchObject({ code: 0 });
      expect(exit.at - signalledAt).toBeLessThan(DRAIN_MS);
      expect(
        logged(
          sender,
          'drain time ran out: exiting with work unfinished; unacked deliveries go back to the queue and leases take over',
        ),
      ).toEqual([]);
      const [stopped] = logged(sender, 'export batch stopped');
      expect(stopped).toMatchObject({ transient: true, reason: 'worker shutting down' });

      const done = await completed(id);
      // Handed back and dispatched again (attempt 2), not redelivered beside a live sender.
      expect(done.attempts).toBe(2);
      expect(await inOrthanc()).toBe(12);
      expect((await fetch(`${other.baseUrl}/health/ready`)).status).toBe(200);

      // One association at a time, the stopped worker's first, each ended by A-RELEASE.
      expect(link.maxOpen).toBe(1);
      const sent = associations();
      expect(sent).toHaveLength(2);
      for (const pdus of sent) {
        expect(pdus[0]).toBe(PDU.A_ASSOCIATE_RQ);
        expect(pdus.at(-1)).toBe(PDU.A_RELEASE_RQ);
        expect(pdus).not.toContain(PDU.A_ABORT);
      }
      const stores = (pdus: number[]) => pdus.filter((type) => type === PDU.P_DATA_TF).length;
      expect(stores(sent[0])).toBeLessThan(stores(sent[1]));
    } finally {
      await link.close();
    }
  });

  it('exits when the drain time runs out (logged); the batch is redelivered to another replica', async () => {
    // The replica left from the first case stops at once: it has nothing to do.
    for (const idle of processes.filter((running) => running.alive())) {
      const signalledAt = Date.now();
      idle.kill('SIGTERM');
      const exit = await exitWithin(idle, 5_000);
      expect(exit.code).toBe(0);
      expect(exit.at - signalledAt).toBeLessThan(2_000);
    }
    const { link, associations } = await watchedLink(peers, 50);
    try {
      const stuck = await startWorker(3_000);
      const id = await exportStudy(await dimsePacs('ORTHANC_STUCK', link.port));
      await eventually('the worker to have sent two instances', async () =>
        (await instancesSent(stuck)) >= 2 ? true : undefined,
      );
      // The PACS stops answering in the middle of an instance: no boundary comes.
      link.blackhole();
      const signalledAt = Date.now();
      stuck.kill('SIGTERM');
      expect(await firstUnready(stuck, signalledAt)).toBeLessThan(1_000);
      const exit = await exitWithin(stuck, 6_000);
      expect(exit.code).toBe(1);
      expect(exit.at - signalledAt).toBeGreaterThanOrEqual(3_000);
      expect(
        logged(
          stuck,
          'drain time ran out: exiting with work unfinished; unacked deliveries go back to the queue and leases take over',
        ),
      ).toHaveLength(1);

      await link.restore();
      await startWorker(DRAIN_MS);
      const done = await completed(id);
      // Redelivered by RabbitMQ once the stopped process was gone; the new worker's claim waits out
      // the lease the stopped one still held (no second sender), and that takeover counts as one
      // failed attempt (ADR 0006, "Claims, reports and leases").
      expect(done.attempts).toBe(2);
      expect(await inOrthanc()).toBe(12);
      expect(link.maxOpen).toBe(1);
      expect(associations()).toHaveLength(2);
    } finally {
      await link.close();
    }
  });
});

describe('SIGTERM to config-service with an event stream open', () => {
  it('goes unready at once, ends the stream, and exits well within its drain time', async () => {
    const [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const workDir = await mkdtemp(join(tmpdir(), 'pacslink-shutdown-sse-'));
    const apiKey = newApiKey();
    let service: ServiceProcess | undefined;
    try {
      service = await startServiceProcess('config-service', {
        DATABASE_URL: database.url,
        AMQP_URL: vhost.url,
        API_KEYS: apiKey,
        SECRETS_KEY: randomBytes(32).toString('base64'),
        STORE_DIR: join(workDir, 'store'),
      });
      const stream = await fetch(`${service.baseUrl}/api/v1/events?types=transfer.*`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(stream.status).toBe(200);
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain(': pacslink events');

      const signalledAt = Date.now();
      service.kill('SIGTERM');
      expect(await firstUnready(service, signalledAt)).toBeLessThan(1_000);
      // The stream ends cleanly (not torn down): an EventSource reconnects, to another replica.
      await expect(reader.read()).resolves.toMatchObject({ done: true });
      const exit = await exitWithin(service, 5_000);
      expect(exit.code).toBe(0);
      expect(exit.at - signalledAt).toBeLessThan(3_000);
    } finally {
      await service?.stop();
      await Promise.all([database.drop(), vhost.drop()]);
      await rm(workDir, { recursive: true, force: true });
    }
  });
});
