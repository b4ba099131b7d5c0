import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import {
  eventually,
  freePort,
  generateStudy,
  runDcmtk,
  startDcmqrscp,
  storescu,
  type DcmtkPeer,
} from '@pacslink/testing';
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { spyOnStoreSyncs } from './store-spies';
import { startDimseWorker } from './workers.harness';

// dimse-worker's Storage SCP with the default SCP_DURABILITY=instance: a push (storescu) is
// answered after each file's fsync, but a C-MOVE's sub-operations (DCMTK dcmqrscp moving a study
// to us, movescu asking) are copies their source keeps: answered from the page cache, every file
// fsynced as one group before the A-RELEASE-RP and before the report that indexes them. Spies on
// StudyStore and FileSyncGroup record what and when; the store's real fsyncs run.
jest.setTimeout(180_000);

const SCP_AE_TITLE = 'PACSLINK_MV';
const QR_AE_TITLE = 'QRSCP_MV';

describe('Storage SCP (dimse-worker, SCP_DURABILITY=instance): C-MOVE sub-operations are made durable per association', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let service: RunningConfigService;
  let worker: INestApplication;
  let dcmqrscp: DcmtkPeer;
  let workDir: string;
  let scpPort: number;
  const received: { data: Record<string, unknown> }[] = [];
  let spied: ReturnType<typeof spyOnStoreSyncs>;
  const eventFor = (studyInstanceUid: string) =>
    received.find((event) => event.data.studyInstanceUid === studyInstanceUid);

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-scp-move-durability-'));
    scpPort = await freePort();
    dcmqrscp = await startDcmqrscp(join(workDir, 'dcmqrscp'), QR_AE_TITLE, {
      moveDestinations: [{ aeTitle: SCP_AE_TITLE, port: scpPort }],
    });
    const storeDir = join(workDir, 'store');
    service = await startConfigService({ env: { SECRETS_KEY: secretsKey, STORE_DIR: storeDir } });
    await service.subscribe('study.received', (body) => {
      received.push(JSON.parse(body) as { data: Record<string, unknown> });
    });
    // The two callers the SCP accepts: the Q/R SCP sending a C-MOVE's sub-operations, a pusher.
    for (const aeTitle of [QR_AE_TITLE, 'STORESCU']) {
      await service.createPacsConfig({
        type: 'dimse',
        aeTitle,
        name: `caller ${aeTitle}`,
        host: '127.0.0.1',
        port: aeTitle === QR_AE_TITLE ? dcmqrscp.port : 104,
        cStore: true,
      });
    }
    spied = spyOnStoreSyncs();
    worker = await startDimseWorker(service.vhost.url, secretsKey, {
      STORE_DIR: storeDir,
      SCP_AE_TITLE,
      SCP_PORT: String(scpPort),
    });
  });

  beforeEach(() => spied.reset());

  afterAll(async () => {
    jest.restoreAllMocks();
    await worker?.close();
    await service?.stop();
    await dcmqrscp?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('answers a C-MOVE sub-operation without fsync, and fsyncs them all before the release and the report', async () => {
    const study = await generateStudy(join(workDir, 'moved'), { series: 2, instancesPerSeries: 4 });
    await storescu({ aet: QR_AE_TITLE, host: '127.0.0.1', port: dcmqrscp.port }, study.files);
    spied.reset();
    await runDcmtk('movescu', [
      '-S',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${study.studyInstanceUid}`,
      '-aet',
      'MOVER',
      '-aec',
      QR_AE_TITLE,
      '-aem',
      SCP_AE_TITLE,
      '127.0.0.1',
      String(dcmqrscp.port),
    ]);
    // movescu ends after dcmqrscp's sub-operations association was released: after the group fsync.
    const movedAt = Date.now();
    expect(spied.writes).toHaveLength(8);
    expect(spied.writes.every((options) => options.syncFile === false)).toBe(true);
    expect(spied.groups.size).toBe(1);
    const [sync] = spied.groups.values();
    expect(sync.paths).toHaveLength(8);
    expect(movedAt).toBeGreaterThanOrEqual(sync.settledAt ?? Infinity);
    const event = await eventually('study.received', () => eventFor(study.studyInstanceUid));
    expect(event.data).toMatchObject({ instances: 8, series: 2 });
  });

  it('still answers a push only after its own fsync (no group)', async () => {
    const study = await generateStudy(join(workDir, 'pushed'), { series: 1, instancesPerSeries: 3 });
    await storescu({ aet: SCP_AE_TITLE, host: '127.0.0.1', port: scpPort }, study.files);
    expect(spied.writes).toHaveLength(3);
    expect(spied.writes.every((options) => options.syncFile === true)).toBe(true);
    expect(spied.groups.size).toBe(0);
    const event = await eventually('study.received', () => eventFor(study.studyInstanceUid));
    expect(event.data).toMatchObject({ instances: 3 });
  });
});
