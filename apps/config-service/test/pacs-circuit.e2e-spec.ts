import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { Client } from 'pg';
import {
  TcpProxy,
  deleteStudyFromOrthanc,
  eventually,
  startPeers,
  type PeerEndpoints,
} from '@pacslink/testing';
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { ExportCalls, type TransferBody } from './export-calls';
import { startWorkers } from './workers.harness';

// Issue 10: a PACS that is down fails fast after the first transfers find it down. A circuit per
// PACS configuration, in Postgres: TRANSFER_CIRCUIT_FAILURES attempts in a row that found it
// unreachable open it; its backlog then waits without spending attempts, one probe goes after a
// cool-down, and transfers that waited TRANSFER_CIRCUIT_WAIT_MS fail naming the circuit (a new one
// then fails at once). A probe that gets through closes it and the backlog goes. Real
// config-service and workers over RabbitMQ and Postgres; Orthanc behind a proxy that can refuse.
jest.setTimeout(180_000);

const MAX_ATTEMPTS = 8;
const FAILURES_TO_OPEN = 3;
const WAIT_MS = 6_000;

interface PacsConfigBody {
  circuit: { state: string; failures: number; openedAt: string | null; reason: string | null };
}

describe('a circuit per PACS', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let calls: ExportCalls;
  let sql: Client;
  let workDir: string;
  const workers: INestApplication[] = [];
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-circuit-e2e-'));
    const storeDir = join(workDir, 'store');
    service = await startConfigService({
      env: {
        SECRETS_KEY: secretsKey,
        STORE_DIR: storeDir,
        TRANSFER_RETRY_BASE_MS: '300',
        TRANSFER_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        TRANSFER_CIRCUIT_FAILURES: String(FAILURES_TO_OPEN),
        TRANSFER_CIRCUIT_COOLDOWN_MS: '1000',
        TRANSFER_CIRCUIT_WAIT_MS: String(WAIT_MS),
      },
    });
    workers.push(...(await startWorkers(service.vhost.url, secretsKey, { STORE_DIR: storeDir })));
    calls = new ExportCalls(service, workDir);
    sql = await service.connectSql();
    const settings = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(settings.status).toBe(200);
  });

  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await service?.stop();
    for (const close of closers) await close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  /** Orthanc's DICOM port behind a proxy of the test's own, refusing connections until restored. */
  async function downOrthanc(): Promise<TcpProxy> {
    const proxy = await new TcpProxy(peers.orthanc.host, peers.orthanc.port).start();
    closers.push(() => proxy.close());
    await proxy.cut();
    return proxy;
  }

  async function circuitOf(id: string): Promise<PacsConfigBody['circuit']> {
    const response = await service.call('GET', `/pacs-configs/${id}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as PacsConfigBody).circuit;
  }

  /** Dispatches of the transfers' batches: each one an association or STOW-RS request tried. */
  async function dispatches(transferIds: readonly string[]): Promise<number> {
    const { rows } = await sql.query<{ n: number }>(
      `SELECT coalesce(sum(attempt), 0)::int AS n FROM transfer_batch WHERE transfer_id = ANY($1::uuid[])`,
      [transferIds],
    );
    return rows[0].n;
  }

  async function circuitMetric(id: string): Promise<string | undefined> {
    const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
    return new RegExp(`^pacslink_pacs_circuit_open\\{pacs_config="${id}"[^}]*\\} (\\d)$`, 'm').exec(
      text,
    )?.[1];
  }

  async function auditActions(id: string): Promise<string[]> {
    return (await service.auditEntries())
      .filter((entry) => entry.entityId === id && entry.action.includes('circuit'))
      .map((entry) => `${entry.action} by ${entry.actor}`)
      .reverse();
  }

  it('a PACS that is down: its backlog waits without spending attempts, then fails naming the circuit', async () => {
    const proxy = await downOrthanc();
    const dimse = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: peers.orthanc.aet,
      name: 'Orthanc, down',
      host: '127.0.0.1',
      port: proxy.port,
      cStore: true,
      maxAssociations: 2,
      timeoutMs: 3_000,
    });
    // A gateway whose PACS is away: 503 to every request.
    const gateway: Server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(503, { 'content-type': 'text/plain' }).end('no backend'));
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => gateway.close(() => resolve())));
    const stow = await service.createPacsConfig({
      type: 'dicomweb',
      aeTitle: 'GATEWAY_503',
      name: 'DICOMweb behind a gateway, down',
      url: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/dicom-web`,
      stowRs: true,
      auth: { method: 'none' },
      timeoutMs: 3_000,
    });
    const study = await calls.storedStudy(1);
    const byDimse: string[] = [];
    const byStow: string[] = [];
    for (let i = 0; i < 5; i++) byDimse.push(await calls.export(dimse, study));
    for (let i = 0; i < 3; i++) byStow.push(await calls.export(stow, study));

    const opened = new RegExp(
      `^PACS (\\S+) \\("[^"]+"\\) is unreachable: its circuit opened at \\d{4}-\\d\\d-\\d\\dT\\S+Z after ` +
        `${FAILURES_TO_OPEN} failed attempts in a row, and no probe since got an answer; the last failure: `,
    );
    for (const id of byDimse) {
      const end = await calls.ended(id, 60_000);
      expect(end.status).toBe('failed');
      expect(end.error).toMatch(opened);
      expect(end.error).toContain(`PACS ${peers.orthanc.aet} ("Orthanc, down")`);
      expect(end.error).toContain(`connection refused by 127.0.0.1:${proxy.port}`);
    }
    for (const id of byStow) {
      const end = await calls.ended(id, 60_000);
      expect(end.error).toMatch(opened);
      expect(end.error).toContain('HTTP 503 Service Unavailable');
    }
    // Without a circuit every batch spends all its attempts: 8 × 8 dispatches. With it: the
    // failures that opened it (and the batches already out then), and a probe per cool-down.
    expect(await dispatches([...byDimse, ...byStow])).toBeLessThanOrEqual(2 * (FAILURES_TO_OPEN + 2 + 3));

    for (const id of [dimse, stow]) {
      expect(await circuitOf(id)).toMatchObject({
        state: 'open',
        failures: expect.any(Number) as unknown,
        openedAt: expect.stringMatching(/Z$/) as unknown,
      });
      expect(await circuitMetric(id)).toBe('1');
      expect(await auditActions(id)).toEqual(['pacs-config.circuit-opened by system']);
    }
    expect((await circuitOf(dimse)).reason).toContain('connection refused');
    expect((await circuitOf(stow)).reason).toContain('HTTP 503');

    // A new transfer to the PACS known to be down fails at once, naming the circuit.
    const started = Date.now();
    const late = await calls.ended(await calls.export(dimse, study), 10_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(late.error).toMatch(opened);

    // The configuration fixed (Orthanc's own port): its circuit closes at once and transfers go.
    const patched = await service.call('PATCH', `/pacs-configs/${dimse}`, { port: peers.orthanc.port });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as PacsConfigBody).circuit).toEqual({
      state: 'closed',
      failures: 0,
      openedAt: null,
      nextProbeAt: null,
      reason: null,
    });
    expect(await circuitMetric(dimse)).toBe('0');
    expect(await auditActions(dimse)).toEqual([
      'pacs-config.circuit-opened by system',
      `pacs-config.circuit-closed by ${service.actor}`,
    ]);
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    expect(await calls.ended(await calls.export(dimse, study), 30_000)).toMatchObject({
      status: 'completed',
    });
  });

  it('a PACS back up: the probe closes the circuit, and the transfers that waited complete', async () => {
    const proxy = await downOrthanc();
    const pacs = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'ORTHANC_BACK',
      name: 'Orthanc, back soon',
      host: '127.0.0.1',
      port: proxy.port,
      cStore: true,
      maxAssociations: 1,
      timeoutMs: 3_000,
    });
    const study = await calls.storedStudy(2);
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await calls.export(pacs, study));
    await eventually('the circuit to open', async () =>
      (await circuitOf(pacs)).state === 'open' ? true : undefined,
    );
    const openedAt = Date.now();
    const spent = await dispatches(ids);
    await proxy.restore();

    const ends: TransferBody[] = [];
    for (const id of ids) ends.push(await calls.ended(id, 60_000));
    expect(ends.map((end) => end.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    // The probe went after the cool-down and closed the circuit well within the wait bound.
    expect(Date.now() - openedAt).toBeLessThan(WAIT_MS);
    // Waiting cost nothing: one dispatch each for the batches that had not been tried, and the probe.
    expect(await dispatches(ids)).toBeLessThanOrEqual(spent + ids.length + 1);
    expect(await circuitOf(pacs)).toMatchObject({ state: 'closed', failures: 0, openedAt: null });
    expect(await circuitMetric(pacs)).toBe('0');
    expect(await auditActions(pacs)).toEqual([
      'pacs-config.circuit-opened by system',
      'pacs-config.circuit-closed by system',
    ]);
  });

  it('the OpenAPI document shows the circuit of each configuration', async () => {
    const document = (await service.apiDocument()) as {
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    const { schemas } = document.components;
    for (const name of ['DicomwebPacsConfigResponse', 'DimsePacsConfigResponse']) {
      expect(schemas[name].properties.circuit).toEqual({ $ref: '#/components/schemas/PacsCircuitResponse' });
    }
    expect(Object.keys(schemas.PacsCircuitResponse.properties).sort()).toEqual([
      'failures',
      'nextProbeAt',
      'openedAt',
      'reason',
      'state',
    ]);
    expect(schemas.PacsCircuitResponse.properties.state).toMatchObject({
      enum: ['closed', 'open', 'half-open'],
    });
  });
});
