import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { eventually, generateStudy, runDcmtk, type GeneratedStudy, freePort } from '@pacslink/testing';
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { spyOnStoreSyncs } from './store-spies';
import { startDimseWorker } from './workers.harness';

// dimse-worker's Storage SCP with SCP_DURABILITY=association, DCMTK storescu as the peer: each
// C-STORE answered from the page cache, every file of the association fsynced (one group) before
// its A-RELEASE-RP and before its report; a group fsync that fails aborts the association and
// reports nothing. The store's real fsyncs run; spies on StudyStore and its FileSyncGroup record
// what and when, hold the group's end a while, or fail it (a disk's EIO cannot be had on demand).
jest.setTimeout(180_000);

const SCP_AE_TITLE = 'PACSLINK_DUR';
const PUSHING_PACS = 'MODALITYDUR';
/** How long the spy holds the group fsync: a storescu that did not wait for it is long gone. */
const HOLD_MS = 1_000;

/** Every file under `dir`, relative to the store's root `root`. */
async function filesUnder(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

describe('Storage SCP (dimse-worker) with SCP_DURABILITY=association, DCMTK storescu as the peer', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let service: RunningConfigService;
  let worker: INestApplication;
  let workDir: string;
  let storeDir: string;
  let scpPort: number;
  const received: { type: string; data: Record<string, unknown> }[] = [];
  let spied: ReturnType<typeof spyOnStoreSyncs>;
  /** Set by a test: the group fsync fails with it instead of running. */
  let failGroupSync: Error | undefined;

  function eventsFor(studyInstanceUid: string) {
    return received.filter((event) => event.data.studyInstanceUid === studyInstanceUid);
  }

  async function listedInstances(studyInstanceUid: string): Promise<number | undefined> {
    const answer = await service.call('GET', '/studies?limit=100');
    const page = (await answer.json()) as { items: { studyInstanceUid: string; instanceCount: number }[] };
    return page.items.find((study) => study.studyInstanceUid === studyInstanceUid)?.instanceCount;
  }

  function storescu(study: GeneratedStudy, extra: string[] = []) {
    return runDcmtk('storescu', [
      ...extra,
      '+sd',
      '+r',
      '-aet',
      PUSHING_PACS,
      '-aec',
      SCP_AE_TITLE,
      '127.0.0.1',
      String(scpPort),
      study.directory,
    ]);
  }

  function studyFiles(study: GeneratedStudy): string[] {
    return study.series
      .flatMap((series) =>
        series.instances.map(
          (instance) =>
            `studies/${study.studyInstanceUid}/${series.seriesInstanceUid}/${instance.sopInstanceUid}.dcm`,
        ),
      )
      .sort();
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-scp-durability-'));
    storeDir = join(workDir, 'store');
    scpPort = await freePort();
    service = await startConfigService({ env: { SECRETS_KEY: secretsKey, STORE_DIR: storeDir } });
    await service.subscribe('study.received', (body) => {
      received.push(JSON.parse(body) as { type: string; data: Record<string, unknown> });
    });
    await service.createPacsConfig({
      type: 'dimse',
      aeTitle: PUSHING_PACS,
      name: 'a modality pushing to a worker that fsyncs per association',
      host: '127.0.0.1',
      port: 104,
      cStore: true,
    });
    spied = spyOnStoreSyncs(async () => {
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
      if (failGroupSync !== undefined) throw failGroupSync;
    });
    worker = await startDimseWorker(service.vhost.url, secretsKey, {
      STORE_DIR: storeDir,
      SCP_AE_TITLE,
      SCP_PORT: String(scpPort),
      SCP_DURABILITY: 'association',
    });
  });

  beforeEach(() => {
    spied.reset();
    failGroupSync = undefined;
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await worker?.close();
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('answers each C-STORE without fsync, then fsyncs every file of the association before the A-RELEASE-RP and the report', async () => {
    const study = await generateStudy(join(workDir, 'released'), { series: 2, instancesPerSeries: 5 });
    await storescu(study);
    // storescu exits once its release is answered: after the group fsync, not before.
    const releasedAt = Date.now();
    expect(spied.writes).toHaveLength(10);
    expect(spied.writes.every((options) => options.syncFile === false)).toBe(true);
    expect(spied.groups.size).toBe(1);
    const [sync] = spied.groups.values();
    expect([...sync.paths].sort()).toEqual(studyFiles(study));
    expect(sync.settledAt).toBeDefined();
    expect(releasedAt).toBeGreaterThanOrEqual(sync.settledAt ?? Infinity);
    expect(await filesUnder(storeDir, `studies/${study.studyInstanceUid}`)).toEqual(studyFiles(study));
    const event = await eventually('study.received', () => eventsFor(study.studyInstanceUid)[0]);
    expect(event.data).toMatchObject({ instances: 10, series: 2 });
    expect(await listedInstances(study.studyInstanceUid)).toBe(10);
  });

  it('a group fsync that fails aborts the association instead of releasing it; nothing is reported, and a re-send is', async () => {
    const study = await generateStudy(join(workDir, 'failed'), { series: 1, instancesPerSeries: 4 });
    failGroupSync = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    await expect(storescu(study)).rejects.toThrow(/exited with/);
    expect([...spied.groups.values()].map((sync) => sync.settleCalledAt)).toEqual([expect.any(Number)]);
    // Long enough for a report to be published and indexed (the first test's took well under it).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(eventsFor(study.studyInstanceUid)).toEqual([]);
    expect(await listedInstances(study.studyInstanceUid)).toBeUndefined();

    failGroupSync = undefined;
    await storescu(study);
    const event = await eventually('study.received', () => eventsFor(study.studyInstanceUid)[0]);
    expect(event.data).toMatchObject({ instances: 4 });
    expect(eventsFor(study.studyInstanceUid)).toHaveLength(1);
    expect(await listedInstances(study.studyInstanceUid)).toBe(4);
  });

  it('an association the peer aborts: what was answered 0x0000 is fsynced, then reported (storescu --abort)', async () => {
    const study = await generateStudy(join(workDir, 'aborted'), { series: 1, instancesPerSeries: 3 });
    await storescu(study, ['--abort']);
    const event = await eventually('study.received', () => eventsFor(study.studyInstanceUid)[0]);
    const reportedAt = Date.now();
    expect(event.data).toMatchObject({ instances: 3 });
    expect(spied.groups.size).toBe(1);
    const [sync] = spied.groups.values();
    expect([...sync.paths].sort()).toEqual(studyFiles(study));
    expect(reportedAt).toBeGreaterThanOrEqual(sync.settledAt ?? Infinity);
  });
});
