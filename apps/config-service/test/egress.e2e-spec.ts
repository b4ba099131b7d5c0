import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import {
  eventually,
  generateStudy,
  startPeers,
  uploadToStudyStore,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import {
  expectProblem,
  startConfigService,
  type AuditItem,
  type RunningConfigService,
} from './config-service.harness';
import { startWorkers } from './workers.harness';

// Issue 9, "Egress": the workers connect only where a PACS may be. Through the running services,
// with the workers allowed 127.0.0.2/32 only: the peers on 127.0.0.1 are outside the range, and the
// broker's and the database's ports are refused at 127.0.0.2 too (they run on this machine).
// Nothing leaves loopback; link-local and metadata addresses are proved in libs/dimse and
// libs/dicomweb (src/egress.spec.ts), where no socket may be opened at all.
jest.setTimeout(120_000);

const PASSWORD = 'egress-e2e-password-7f3a';
const ALLOWED = '127.0.0.2/32';

interface TestAnswer {
  ok: boolean;
  message: string;
  detail?: string;
  elapsedMs: number;
}

interface TransferBody {
  id: string;
  status: string;
  attempts: number;
  error?: string;
}

function portOf(url: string | undefined, fallback: number): number {
  return url === undefined ? fallback : Number(new URL(url).port || fallback);
}

function notAllowed(host: string, port: number): string {
  return `${host}:${port} (${host}) is not an allowed PACS address (EGRESS_ALLOW_CIDRS)`;
}

describe('egress: workers connect only where a PACS may be (EGRESS_ALLOW_CIDRS=127.0.0.2/32)', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let service: RunningConfigService;
  const workers: INestApplication[] = [];
  let peers: PeerEndpoints;
  let workDir: string;
  let study: GeneratedStudy;
  let pacs: Server;
  let pacsPort: number;
  let pacsRequests = 0;

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-egress-'));
    const storeDir = join(workDir, 'store');
    service = await startConfigService({ env: { SECRETS_KEY: secretsKey, STORE_DIR: storeDir } });
    workers.push(
      ...(await startWorkers(service.vhost.url, secretsKey, {
        STORE_DIR: storeDir,
        EGRESS_ALLOW_CIDRS: ALLOWED,
      })),
    );
    // A DICOMweb server on 127.0.0.1 that would answer every request: it must get none.
    pacs = createServer((request, response) => {
      pacsRequests += 1;
      request.resume();
      response.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
    });
    await new Promise<void>((resolve) => pacs.listen(0, '127.0.0.1', resolve));
    pacsPort = (pacs.address() as AddressInfo).port;
    const settings = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(settings.status).toBe(200);
    study = await generateStudy(workDir, { series: 1, instancesPerSeries: 1 });
    expect((await uploadToStudyStore(service.baseUrl, service.apiKey, study.files)).status).toBe(200);
  });

  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await service?.stop();
    await new Promise((resolve) => pacs?.close(resolve));
    if (workDir) await rm(workDir, { recursive: true, force: true });
    expect(pacsRequests).toBe(0);
  });

  async function testUnsaved(config: Record<string, unknown>): Promise<TestAnswer> {
    const response = await service.call('POST', '/pacs-configs/test-connection', {
      aeTitle: 'EGRESS',
      name: 'an unsaved configuration',
      timeoutMs: 5_000,
      ...config,
    });
    expect(response.status).toBe(200);
    return (await response.json()) as TestAnswer;
  }

  function dicomweb(url: string): Record<string, unknown> {
    return {
      type: 'dicomweb',
      url,
      qidoRs: true,
      stowRs: true,
      auth: { method: 'basic', username: 'viewer', password: PASSWORD },
    };
  }

  async function entries(action: string): Promise<AuditItem[]> {
    return (await service.auditEntries()).filter((entry) => entry.action === action);
  }

  it('an unsaved test to a loopback address outside the range: "Connection failed", the address named, nothing sent', async () => {
    const answer = await testUnsaved(dicomweb(`http://127.0.0.1:${pacsPort}/dicom-web`));
    expect(answer).toEqual({
      ok: false,
      message: 'Connection failed',
      detail: notAllowed('127.0.0.1', pacsPort),
      elapsedMs: expect.any(Number) as number,
    });
    const dimse = await testUnsaved({ type: 'dimse', host: peers.storescp.host, port: peers.storescp.port });
    expect(dimse.detail).toBe(notAllowed(peers.storescp.host, peers.storescp.port));
    expect(pacsRequests).toBe(0);
  });

  it("the broker's and the database's ports, at an allowed address of this machine: refused as pacslink's own", async () => {
    const broker = portOf(process.env.AMQP_URL, 5672);
    const database = portOf(process.env.DATABASE_URL, 5432);
    expect((await testUnsaved({ type: 'dimse', host: '127.0.0.2', port: broker })).detail).toBe(
      `127.0.0.2:${broker} (127.0.0.2) is pacslink's own broker (AMQP_URL): never allowed as a PACS`,
    );
    expect((await testUnsaved(dicomweb(`http://127.0.0.2:${database}/dicom-web`))).detail).toBe(
      `127.0.0.2:${database} (127.0.0.2) is one of pacslink's own services (EGRESS_DENY_ENDPOINTS): never allowed as a PACS`,
    );
  });

  it('every unsaved test is audited with who, where and the outcome, and a refusal as egress.refused; no secret', async () => {
    const url = `http://127.0.0.1:${pacsPort}/dicom-web`;
    const answer = await testUnsaved(dicomweb(url));
    const tested = (await entries('pacs-config.tested')).find(
      (entry) => (entry.change.destination as { url?: string }).url === url,
    );
    expect(tested).toMatchObject({
      actor: service.actor,
      entityType: 'pacs-config',
      entityId: null,
      change: {
        saved: false,
        type: 'dicomweb',
        aeTitle: 'EGRESS',
        destination: { url },
        outcome: { ok: false, detail: answer.detail, code: 'EGRESS_REFUSED' },
      },
    });
    const refused = (await entries('egress.refused')).find(
      (entry) => (entry.change.destination as { url?: string }).url === url,
    );
    expect(refused).toMatchObject({
      actor: service.actor,
      change: { activity: 'connection-test', type: 'dicomweb', destination: { url }, detail: answer.detail },
    });
    expect(JSON.stringify(await service.auditEntries())).not.toContain(PASSWORD);
  });

  it('a query of a saved configuration: 502 "Connection failed: …", audited as egress.refused by who asked', async () => {
    const id = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: peers.orthanc.aet,
      name: 'Orthanc on 127.0.0.1',
      host: peers.orthanc.host,
      port: peers.orthanc.port,
      queryRetrieve: true,
      timeoutMs: 5_000,
    });
    const problem = await expectProblem(
      await service.call('POST', `/pacs-configs/${id}/query`, { level: 'study', filters: {} }),
      502,
    );
    expect(problem.detail).toBe(
      `the query of "${peers.orthanc.aet}" failed: Connection failed: ${notAllowed(peers.orthanc.host, peers.orthanc.port)}`,
    );
    const refused = (await entries('egress.refused')).find((entry) => entry.entityId === id);
    expect(refused).toMatchObject({
      actor: service.actor,
      entityType: 'pacs-config',
      change: {
        activity: 'query',
        type: 'dimse',
        destination: { host: peers.orthanc.host, port: peers.orthanc.port },
      },
    });
  });

  it.each([
    [
      'C-STORE',
      () => ({ type: 'dimse', host: peers.storescp.host, port: peers.storescp.port, cStore: true }),
      () => notAllowed(peers.storescp.host, peers.storescp.port),
    ],
    [
      'STOW-RS',
      () => dicomweb(`http://127.0.0.1:${pacsPort}/dicom-web`),
      () => notAllowed('127.0.0.1', pacsPort),
    ],
  ])(
    'an export by %s: failed at the first attempt, "Connection failed: …", audited in the name of who asked',
    async (method, config, refusal) => {
      const pacsConfigId = await service.createPacsConfig({
        aeTitle: `EGRESS_${method.replace('-', '')}`,
        name: `export by ${method}`,
        timeoutMs: 5_000,
        ...config(),
      });
      const created = await service.call('POST', '/transfers', {
        direction: 'export',
        pacsConfigId,
        studyInstanceUid: study.studyInstanceUid,
      });
      expect(created.status).toBe(202);
      const { id } = (await created.json()) as TransferBody;
      const transfer = await eventually(`transfer ${id} failed`, async () => {
        const body = (await (await service.call('GET', `/transfers/${id}`)).json()) as TransferBody;
        return body.status === 'failed' ? body : undefined;
      });
      expect(transfer).toMatchObject({ attempts: 1, error: `Connection failed: ${refusal()}` });
      const refused = (await entries('egress.refused')).find((entry) => entry.change.transferId === id);
      expect(refused).toMatchObject({
        actor: service.actor,
        entityId: pacsConfigId,
        change: { activity: 'transfer', detail: `Connection failed: ${refusal()}` },
      });
    },
  );
});
