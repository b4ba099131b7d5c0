import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  eventually,
  type GeneratedStudy,
  generateStudy,
  orthancRest,
  type PeerEndpoints,
  runDcmtk,
  startPeers,
  storescu,
  testEgressEnv,
  uniqueSuffix,
  writeMultiFrameInstance,
  freePort,
} from '@pacslink/testing';
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { startServiceProcess, type ServiceProcess } from './service-process.harness';

// Issue 11: dimse-worker's Storage SCP, run as its own process (as a container runs it, so that its
// memory is its own), receiving from real peers: a 300 MB multi-frame instance from DCMTK storescu,
// a study Orthanc pushes through its REST API, and the sub-operations of a C-MOVE that Orthanc
// serves with our AE title as destination. Orthanc learns our SCP as a modality through its REST
// API for this test (PUT /modalities/{id}).
jest.setTimeout(300_000);

const SCP_AE_TITLE = `SCP${uniqueSuffix().slice(-8).toUpperCase()}`;
const BIG_MODALITY = 'BIGMODALITY';
/** A calling AE title registered in Orthanc's DicomModalities by scripts/test-peers.sh. */
const MOVE_CALLER = 'MOVESCU_DCMTK';
const MB = 1024 * 1024;

/** The SHA-256 of a Part 10 file's data set, read as a stream (never the whole file in memory). */
async function dataSetSha256(path: string): Promise<string> {
  const file = await open(path, 'r');
  const head = Buffer.alloc(144);
  try {
    await file.read(head, 0, 144, 0);
  } finally {
    await file.close();
  }
  // (0002,0000) FileMetaInformationGroupLength's value sits at byte 140 (PS3.10 7.1).
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { start: 144 + head.readUInt32LE(140) }), hash);
  return hash.digest('hex');
}

/** A figure of /proc/<pid>/status, in bytes (VmRSS: now; VmHWM: the peak since the last reset). */
async function memoryOf(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe('Storage SCP (dimse-worker process) receiving from storescu and Orthanc', () => {
  const secretsKey = randomBytes(32).toString('base64');
  const modality = `pacslink-scp-e2e-${uniqueSuffix()}`;
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let worker: ServiceProcess;
  let workDir: string;
  let storeDir: string;
  let scpPort: number;
  let orthancConfigId: string;
  let bigModalityConfigId: string;
  const received: { type: string; data: Record<string, unknown> }[] = [];

  async function receivedEvent(studyInstanceUid: string) {
    return eventually(`study.received for ${studyInstanceUid}`, () =>
      received.find((event) => event.data.studyInstanceUid === studyInstanceUid),
    );
  }

  /** Sends `study` to Orthanc with storescu; answers Orthanc's own id of the study. */
  async function intoOrthanc(study: GeneratedStudy): Promise<string> {
    const { orthanc } = peers;
    await storescu(orthanc, [study.directory], ['+sd', '+r']);
    const [id] = (await orthancRest(orthanc, 'POST', '/tools/find', {
      Level: 'Study',
      Query: { StudyInstanceUID: study.studyInstanceUid },
    })) as string[];
    if (id === undefined) throw new Error(`Orthanc does not hold study ${study.studyInstanceUid}`);
    return id;
  }

  function instanceFiles(study: GeneratedStudy): string[] {
    return study.series
      .flatMap((series) => series.instances.map((instance) => `${instance.sopInstanceUid}.dcm`))
      .sort();
  }

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-storage-scp-peers-'));
    storeDir = join(workDir, 'store');
    scpPort = await freePort();
    service = await startConfigService({ env: { SECRETS_KEY: secretsKey, STORE_DIR: storeDir } });
    await service.subscribe('study.received', (body) => {
      received.push(JSON.parse(body) as { type: string; data: Record<string, unknown> });
    });
    orthancConfigId = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: peers.orthanc.aet,
      name: 'the test Orthanc',
      host: peers.orthanc.host,
      port: peers.orthanc.port,
      cStore: true,
    });
    bigModalityConfigId = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: BIG_MODALITY,
      name: 'a modality with large multi-frame instances',
      host: '127.0.0.1',
      port: 104,
      cStore: true,
    });
    worker = await startServiceProcess('dimse-worker', {
      AMQP_URL: service.vhost.url,
      STORE_DIR: storeDir,
      SCP_AE_TITLE,
      SCP_PORT: String(scpPort),
      ...testEgressEnv(),
    });
    await orthancRest(peers.orthanc, 'PUT', `/modalities/${modality}`, {
      AET: SCP_AE_TITLE,
      Host: '127.0.0.1',
      Port: scpPort,
    });
  });

  afterAll(async () => {
    if (peers) await orthancRest(peers.orthanc, 'DELETE', `/modalities/${modality}`).catch(() => undefined);
    await worker?.stop();
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('stores a 300 MB multi-frame instance from storescu byte for byte, the worker holding a few MB of it at most', async () => {
    await mkdir(join(workDir, 'big'));
    const big = await writeMultiFrameInstance(join(workDir, 'big', 'big.dcm'), {
      frames: 600,
      rows: 512,
      cols: 512,
    });
    expect(big.bytes).toBeGreaterThan(300 * 1_000_000);
    const sourceHash = await dataSetSha256(big.file);
    // Linux: writing 5 to clear_refs resets VmHWM, so the peak is the transfer's, not start-up's.
    await writeFile(`/proc/${worker.pid}/clear_refs`, '5');
    const rssBefore = await memoryOf(worker.pid, 'VmRSS');
    const started = Date.now();
    await runDcmtk(
      'storescu',
      ['-aet', BIG_MODALITY, '-aec', SCP_AE_TITLE, '127.0.0.1', String(scpPort), big.file],
      {
        timeoutMs: 240_000,
      },
    );
    const elapsedMs = Date.now() - started;
    const peak = await memoryOf(worker.pid, 'VmHWM');
    const stored = join(
      storeDir,
      'studies',
      big.studyInstanceUid,
      big.seriesInstanceUid,
      `${big.sopInstanceUid}.dcm`,
    );
    expect(await dataSetSha256(stored)).toBe(sourceHash);
    console.info(
      `300 MB via storescu: ${(big.bytes / MB).toFixed(0)} MiB in ${elapsedMs} ms; dimse-worker RSS before ${(rssBefore / MB).toFixed(0)} MiB, peak ${(peak / MB).toFixed(0)} MiB`,
    );
    // Holding the instance would add 300 MB; streaming holds a PDU and the stream's buffers.
    expect(peak - rssBefore).toBeLessThan(64 * MB);
    const event = await receivedEvent(big.studyInstanceUid);
    expect(event.data).toMatchObject({
      pacsConfigId: bigModalityConfigId,
      pacsAeTitle: BIG_MODALITY,
      instances: 1,
    });
  });

  it('stores, indexes and announces a study Orthanc pushes (REST POST /modalities/{id}/store) as sent by that PACS', async () => {
    const study = await generateStudy(join(workDir, 'pushed'), { series: 2, instancesPerSeries: 3 });
    const orthancId = await intoOrthanc(study);
    await orthancRest(peers.orthanc, 'POST', `/modalities/${modality}/store`, {
      Resources: [orthancId],
      Synchronous: true,
    });
    const event = await receivedEvent(study.studyInstanceUid);
    expect(event).toMatchObject({
      type: 'study.received',
      data: { pacsConfigId: orthancConfigId, pacsAeTitle: peers.orthanc.aet, instances: 6, series: 2 },
    });
    expect((await filesUnder(join(storeDir, 'studies', study.studyInstanceUid))).sort()).toEqual(
      instanceFiles(study),
    );
  });

  it("stores a C-MOVE's sub-operations that Orthanc sends to our AE title (movescu asks), announced as Orthanc's", async () => {
    const study = await generateStudy(join(workDir, 'moved'), { series: 1, instancesPerSeries: 4 });
    await intoOrthanc(study);
    const { orthanc } = peers;
    const { stdout, stderr } = await runDcmtk('movescu', [
      '-v',
      '-S',
      '-aet',
      MOVE_CALLER,
      '-aec',
      orthanc.aet,
      '-aem',
      SCP_AE_TITLE,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${study.studyInstanceUid}`,
      orthanc.host,
      String(orthanc.port),
    ]);
    expect(`${stdout}${stderr}`).toMatch(/Received Final Move Response \(Success\)/);
    // Each sub-operation's C-STORE-RQ carries the Move Originator AE Title (0000,1030) and Message
    // ID (0000,1031) (IncomingInstance.moveOriginator; libs/dimse's Orthanc test checks them). The
    // move was asked by another application, not by one of our AE titles: announced as Orthanc's.
    const event = await receivedEvent(study.studyInstanceUid);
    expect(event.data).toMatchObject({
      pacsConfigId: orthancConfigId,
      pacsAeTitle: orthanc.aet,
      instances: 4,
    });
    expect((await filesUnder(join(storeDir, 'studies', study.studyInstanceUid))).sort()).toEqual(
      instanceFiles(study),
    );
  });

  it('indexes, and does not announce as received, the sub-operations of a C-MOVE one of our local AE titles asked for (a retrieve of ours)', async () => {
    const study = await generateStudy(join(workDir, 'retrieved'), { series: 1, instancesPerSeries: 3 });
    await intoOrthanc(study);
    const { orthanc } = peers;
    // Ours: a local AE title of pacslink, which Orthanc also knows (it answers C-MOVE to those only).
    const ours = `PL${uniqueSuffix().slice(-8).toUpperCase()}`;
    const created = await service.call('POST', '/local-ae-titles', { aeTitle: ours });
    expect(created.status).toBe(201);
    await orthancRest(orthanc, 'PUT', `/modalities/${modality}-ours`, {
      AET: ours,
      Host: '127.0.0.1',
      Port: 104,
    });
    try {
      const { stdout, stderr } = await runDcmtk('movescu', [
        '-v',
        '-S',
        '-aet',
        ours,
        '-aec',
        orthanc.aet,
        '-aem',
        SCP_AE_TITLE,
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${study.studyInstanceUid}`,
        orthanc.host,
        String(orthanc.port),
      ]);
      expect(`${stdout}${stderr}`).toMatch(/Received Final Move Response \(Success\)/);
    } finally {
      await orthancRest(orthanc, 'DELETE', `/modalities/${modality}-ours`).catch(() => undefined);
    }
    const listed = await eventually(`study ${study.studyInstanceUid} indexed`, async () => {
      const answer = await service.call('GET', `/studies/${study.studyInstanceUid}`);
      return answer.status === 200 ? ((await answer.json()) as { instanceCount: number }) : undefined;
    });
    expect(listed.instanceCount).toBe(3);
    // Indexed first, announced (were it a push) in the transaction right after: give it time.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(received.filter((event) => event.data.studyInstanceUid === study.studyInstanceUid)).toEqual([]);
  });
});
