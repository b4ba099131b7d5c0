import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope, TransferEventData } from '@pacslink/contracts';
import {
  deleteStudyFromOrthanc,
  eventually,
  generateStudy,
  orthancRest,
  startPeers,
  storescu,
  testEgressEnv,
  uniqueSuffix,
  type GeneratedStudy,
  type PeerEndpoints,
  freePort,
  type DcmtkPeer,
  startDcmqrscp,
} from '@pacslink/testing';
/* eslint-disable @nx/enforce-module-boundaries --
 * libs/dimse's test support: a free port, a DCMTK tool of the test's own, a Part 10 file's data set. */
import { datasetBytes, datasetBytesOf } from '../../../libs/dimse/test/support/store-fixtures';
/* eslint-enable @nx/enforce-module-boundaries */
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { startServiceProcess, type ServiceProcess } from './service-process.harness';

// Import end to end (issue 12): config-service, and dimse-worker and dicomweb-worker as their own
// processes, against real PACSs: Orthanc with HTTP Basic (WADO-RS), Orthanc for C-GET and C-MOVE
// (our Storage SCP registered as its modality for this test), and get-then-move falling back to
// C-MOVE from DCMTK dcmqrscp --disable-get and from an Orthanc that refuses our C-GET. What lands in
// the study store is compared byte for byte with what the test put into the PACS.
jest.setTimeout(300_000);

const SCP_AE_TITLE = `IMP${uniqueSuffix().slice(-8).toUpperCase()}`;
const QR_AE_TITLE = `QR${uniqueSuffix().slice(-8).toUpperCase()}`;

interface TransferBody {
  id: string;
  status: string;
  method: string;
  fallback?: string;
  error?: string;
  progress: { total: number; completed: number; failed: number; warning: number };
}

describe('import through the running services from Orthanc and DCMTK', () => {
  const secretsKey = randomBytes(32).toString('base64');
  const modality = `pacslink-import-peers-${uniqueSuffix()}`;
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let dimseWorker: ServiceProcess;
  let dicomwebWorker: ServiceProcess;
  let dcmqrscp: DcmtkPeer;
  let workDir: string;
  let storeDir: string;
  let orthancDimse: string;
  const studies: GeneratedStudy[] = [];
  const events: Envelope<TransferEventData>[] = [];

  async function importStudy(pacsConfigId: string, study: GeneratedStudy): Promise<TransferBody> {
    const response = await service.call('POST', '/transfers', {
      direction: 'import',
      pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
    });
    const body = (await response.json()) as TransferBody;
    if (response.status !== 202) throw new Error(`${response.status}: ${JSON.stringify(body)}`);
    return body;
  }

  function ended(id: string, withinMs = 60_000): Promise<TransferBody> {
    return eventually(
      `transfer ${id} to end`,
      async () => {
        const current = (await (await service.call('GET', `/transfers/${id}`)).json()) as TransferBody;
        return ['completed', 'failed', 'cancelled'].includes(current.status) ? current : undefined;
      },
      withinMs,
    );
  }

  /** A new study in Orthanc (storescu), not in the study store. */
  async function inOrthanc(shape: { series: number; instancesPerSeries: number }): Promise<GeneratedStudy> {
    const study = await generateStudy(join(workDir, 'source'), shape);
    studies.push(study);
    await storescu(peers.orthanc, study.files);
    return study;
  }

  /** Every instance of the study is in the store, its data set byte for byte the one put into the PACS. */
  async function expectStoredAsSent(study: GeneratedStudy): Promise<void> {
    for (const series of study.series) {
      for (const instance of series.instances) {
        const stored = join(
          storeDir,
          'studies',
          study.studyInstanceUid,
          series.seriesInstanceUid,
          `${instance.sopInstanceUid}.dcm`,
        );
        expect(datasetBytes(await readFile(stored)).equals(await datasetBytesOf(instance.file))).toBe(true);
      }
    }
    const listed = (await (await service.call('GET', `/studies/${study.studyInstanceUid}`)).json()) as {
      instanceCount: number;
    };
    expect(listed.instanceCount).toBe(study.files.length);
  }

  function completedEvent(id: string): Promise<Envelope<TransferEventData>> {
    return eventually(`transfer.completed of ${id}`, () =>
      events.find((event) => event.type === 'transfer.completed' && event.data.transferId === id),
    );
  }

  /** A dcmqrscp that refuses C-GET and knows our Storage SCP as a C-MOVE destination. */
  function startNoGetPacs(scpPort: number): Promise<DcmtkPeer> {
    return startDcmqrscp(join(workDir, 'dcmqrscp'), QR_AE_TITLE, {
      extra: ['--disable-get'],
      moveDestinations: [{ aeTitle: SCP_AE_TITLE, port: scpPort }],
    });
  }

  /** get-then-move fell back: completed by C-MOVE, the reason on GET and on transfer.completed. */
  async function expectFellBack(id: string, instances: number): Promise<void> {
    const done = await ended(id);
    expect(done).toMatchObject({ status: 'completed', method: 'C-MOVE', progress: { completed: instances } });
    expect(done.fallback).toEqual(expect.any(String));
    expect((await completedEvent(id)).data).toMatchObject({ method: 'C-MOVE', fallback: done.fallback });
  }

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-import-peers-'));
    storeDir = join(workDir, 'store');
    const scpPort = await freePort();
    service = await startConfigService({ env: { SECRETS_KEY: secretsKey, STORE_DIR: storeDir } });
    await service.subscribe('transfer.#', (body) =>
      events.push(JSON.parse(body) as Envelope<TransferEventData>),
    );
    expect(
      (await service.call('PUT', '/settings', { allowTransfer: true, defaultCallingAeTitle: 'PACSLINK' }))
        .status,
    ).toBe(200);
    const workerEnv = {
      AMQP_URL: service.vhost.url,
      SECRETS_KEY: secretsKey,
      STORE_DIR: storeDir,
      ...testEgressEnv(),
    };
    [dimseWorker, dicomwebWorker] = await Promise.all([
      startServiceProcess('dimse-worker', { ...workerEnv, SCP_AE_TITLE, SCP_PORT: String(scpPort) }),
      startServiceProcess('dicomweb-worker', workerEnv),
    ]);
    // Orthanc sends a C-MOVE's instances only to a modality it knows.
    await orthancRest(peers.orthanc, 'PUT', `/modalities/${modality}`, {
      AET: SCP_AE_TITLE,
      Host: '127.0.0.1',
      Port: scpPort,
    });
    dcmqrscp = await startNoGetPacs(scpPort);
    // C-GET and C-MOVE call Orthanc as PACSLINK (settings.defaultCallingAeTitle), which it knows.
    orthancDimse = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: peers.orthanc.aet,
      name: 'the test Orthanc (DIMSE)',
      host: peers.orthanc.host,
      port: peers.orthanc.port,
      queryRetrieve: true,
      retrieveMethod: 'get',
      moveDestinationAeTitle: SCP_AE_TITLE,
      maxAssociations: 2,
      timeoutMs: 20_000,
    });
  });

  afterAll(async () => {
    if (peers) {
      for (const id of [modality, `${modality}-noget`]) {
        await orthancRest(peers.orthanc, 'DELETE', `/modalities/${id}`).catch(() => undefined);
      }
      for (const study of studies) await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    }
    await dcmqrscp?.stop();
    await dimseWorker?.stop();
    await dicomwebWorker?.stop();
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('WADO-RS from Orthanc with HTTP Basic: the study in the store byte for byte, in GET /studies', async () => {
    const study = await inOrthanc({ series: 2, instancesPerSeries: 3 });
    const web = await service.createPacsConfig({
      type: 'dicomweb',
      aeTitle: 'ORTHANC_WADO',
      name: 'the test Orthanc (DICOMweb)',
      url: peers.orthanc.dicomWebUrl,
      qidoRs: true,
      auth: { method: 'basic', username: peers.orthanc.user, password: peers.orthanc.password },
      timeoutMs: 20_000,
    });
    const queued = await importStudy(web, study);
    expect(queued.method).toBe('WADO-RS');
    expect(await ended(queued.id)).toMatchObject({
      status: 'completed',
      method: 'WADO-RS',
      progress: { total: 6, completed: 6, failed: 0 },
    });
    expect((await completedEvent(queued.id)).data).toMatchObject({
      direction: 'import',
      method: 'WADO-RS',
      progress: { total: 6, completed: 6 },
    });
    await expectStoredAsSent(study);
  });

  it('C-GET from Orthanc, then a re-import fetches nothing again', async () => {
    const study = await inOrthanc({ series: 2, instancesPerSeries: 2 });
    const queued = await importStudy(orthancDimse, study);
    expect(queued.method).toBe('C-GET');
    expect(await ended(queued.id)).toMatchObject({
      status: 'completed',
      method: 'C-GET',
      progress: { completed: 4 },
    });
    await expectStoredAsSent(study);
    const again = await importStudy(orthancDimse, study);
    expect(await ended(again.id)).toMatchObject({
      status: 'completed',
      progress: { total: 4, completed: 4 },
    });
    const instances = (await (await service.call('GET', `/transfers/${again.id}/instances`)).json()) as {
      items: { reason?: string }[];
    };
    expect(instances.items.map((i) => i.reason)).toEqual(Array(4).fill('already in the study store'));
  });

  it('C-MOVE from Orthanc to our Storage SCP: completed when the instances arrived', async () => {
    const patched = await service.call('PATCH', `/pacs-configs/${orthancDimse}`, { retrieveMethod: 'move' });
    expect(patched.status).toBe(200);
    const study = await inOrthanc({ series: 1, instancesPerSeries: 3 });
    const queued = await importStudy(orthancDimse, study);
    expect(queued.method).toBe('C-MOVE');
    // On the Storage SCP's report, not a batch lease (TRANSFER_LEASE_MS, 60 s) later.
    expect(await ended(queued.id, 30_000)).toMatchObject({
      status: 'completed',
      method: 'C-MOVE',
      progress: { completed: 3 },
    });
    await expectStoredAsSent(study);
  });

  it('get-then-move from dcmqrscp --disable-get: C-GET refused, C-MOVE at once, the transfer says so', async () => {
    const study = await generateStudy(join(workDir, 'source'), { series: 1, instancesPerSeries: 3 });
    await storescu({ aet: QR_AE_TITLE, host: '127.0.0.1', port: dcmqrscp.port }, study.files);
    const noGet = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: QR_AE_TITLE,
      name: 'dcmqrscp without C-GET',
      host: '127.0.0.1',
      port: dcmqrscp.port,
      queryRetrieve: true,
      retrieveMethod: 'get-then-move',
      moveDestinationAeTitle: SCP_AE_TITLE,
      timeoutMs: 20_000,
    });
    const queued = await importStudy(noGet, study);
    expect(queued.method).toBe('C-GET');
    await expectFellBack(queued.id, 3);
    await expectStoredAsSent(study);
  });

  it('get-then-move from an Orthanc that refuses our C-GET (AllowGet false): C-MOVE at once', async () => {
    // The C-MOVE's originator is then this calling AE title, which is ours (a local AE title).
    const noGet = `NG${uniqueSuffix().slice(-8).toUpperCase()}`;
    expect((await service.call('POST', '/local-ae-titles', { aeTitle: noGet })).status).toBe(201);
    await orthancRest(peers.orthanc, 'PUT', `/modalities/${modality}-noget`, {
      AET: noGet,
      Host: '127.0.0.1',
      Port: 104,
      AllowGet: false,
    });
    const patched = await service.call('PATCH', `/pacs-configs/${orthancDimse}`, {
      retrieveMethod: 'get-then-move',
      queryAeTitle: noGet,
    });
    expect(patched.status).toBe(200);
    const study = await inOrthanc({ series: 1, instancesPerSeries: 3 });
    const queued = await importStudy(orthancDimse, study);
    expect(queued.method).toBe('C-GET');
    await expectFellBack(queued.id, 3);
    await expectStoredAsSent(study);
  });
});
