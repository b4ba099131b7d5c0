import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  DimseImportBatchData,
  DimseImportPlanData,
  ImportInstanceData,
  InstanceOutcomeData,
  TransferMethod,
} from '@pacslink/contracts';
import { DimseError, DimseErrorCode } from '@pacslink/dimse';
import type { BatchRunControl, BatchSender, ExportBatchRunner } from '@pacslink/export-batch';
import { StudyStore } from '@pacslink/store';
import {
  deleteStudyFromOrthanc,
  type GeneratedStudy,
  generateStudy,
  orthancRest,
  type PeerEndpoints,
  startPeers,
  storescu,
  testEgressGuard,
  uniqueSuffix,
  startDcmtk,
  type DcmtkPeer,
  startDcmqrscp,
} from '@pacslink/testing';
/* eslint-disable @nx/enforce-module-boundaries --
 * libs/dimse's test support: DCMTK tools of the test's own on free ports, and the data set of a
 * Part 10 file (what a PACS sends over DIMSE). Test code only. */
import { datasetBytes, datasetBytesOf } from '../../../libs/dimse/test/support/store-fixtures';
/* eslint-enable @nx/enforce-module-boundaries */
import { ImportService } from '../src/import/import.service';

// dimse-worker's import senders against real PACS: Orthanc (C-FIND plan, C-GET into a StudyStore
// on a temporary folder, C-MOVE to DCMTK storescp) and DCMTK dcmqrscp --disable-get (get-then-move
// falls back to C-MOVE). The senders are driven as ExportBatchRunner drives them (the runner's
// claims and reports are unit-tested in libs/export-batch); every stored or moved file's data set
// is compared with what the test put into the PACS.
jest.setTimeout(180_000);

const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const TIMEOUT_MS = 20_000;

let peers: PeerEndpoints;
let workDir: string;
let study: GeneratedStudy;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-dimse-import-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  study = await generateStudy(workDir, { series: 2, instancesPerSeries: 3 });
  cleanups.push(() => deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid));
  await storescu(peers.orthanc, study.files);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** What the runner is told, in order. */
interface Recorded {
  outcomes: { outcome: InstanceOutcomeData; bytes?: number }[];
  fallbacks: { method: TransferMethod; reason: string }[];
  control: BatchRunControl;
}

function recorder(): Recorded {
  const recorded: Recorded = {
    outcomes: [],
    fallbacks: [],
    control: {
      outcome: (outcome, bytes) => recorded.outcomes.push({ outcome, bytes }),
      fallback: (method, reason) => recorded.fallbacks.push({ method, reason }),
    },
  };
  return recorded;
}

/** The senders need no runner: the test plays its part. */
function importService(store: StudyStore): ImportService {
  return new ImportService(undefined as unknown as ExportBatchRunner, testEgressGuard(), store);
}

async function sendError(sender: BatchSender, run: BatchRunControl): Promise<unknown> {
  return sender.send(run, new AbortController().signal).then(
    () => {
      throw new Error('expected the run to fail');
    },
    (error: unknown) => error,
  );
}

function orthancTarget(callingAeTitle: string) {
  return {
    host: peers.orthanc.host,
    port: peers.orthanc.port,
    calledAeTitle: peers.orthanc.aet,
    callingAeTitle,
    timeoutMs: TIMEOUT_MS,
  };
}

function manifestOf(generated: GeneratedStudy): ImportInstanceData[] {
  return generated.series.flatMap((series) =>
    series.instances.map((instance) => ({
      sopInstanceUid: instance.sopInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
      sopClassUid: instance.sopClassUid,
    })),
  );
}

function byUid(list: readonly ImportInstanceData[]): ImportInstanceData[] {
  return [...list].sort((a, b) => a.sopInstanceUid.localeCompare(b.sopInstanceUid));
}

function batchOf(
  instances: ImportInstanceData[],
  more: Partial<DimseImportBatchData> & Pick<DimseImportBatchData, 'target'>,
): DimseImportBatchData {
  return {
    transferId: randomUUID(),
    batchId: randomUUID(),
    attempt: 1,
    studyInstanceUid: study.studyInstanceUid,
    instances,
    wholeSeries: [],
    operation: 'C-GET',
    moveOnGetFailure: false,
    moveDestinationAeTitle: peers.storescp.aet,
    ...more,
  };
}

function sourceFile(sopInstanceUid: string): string {
  const instance = study.series
    .flatMap((series) => series.instances)
    .find((i) => i.sopInstanceUid === sopInstanceUid);
  if (instance === undefined) throw new Error(`not in the test's study: ${sopInstanceUid}`);
  return instance.file;
}

/** Every instance's data set, byte for byte, where `fileOf` says it landed. */
async function expectSameDataSets(uids: readonly string[], fileOf: (uid: string) => string): Promise<void> {
  for (const uid of uids) {
    const landed = datasetBytes(await readFile(fileOf(uid)));
    expect(landed.equals(await datasetBytesOf(sourceFile(uid)))).toBe(true);
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe('import plan (C-FIND at IMAGE level)', () => {
  function plan(more: Partial<DimseImportPlanData> = {}): DimseImportPlanData {
    return {
      transferId: randomUUID(),
      batchId: randomUUID(),
      attempt: 1,
      studyInstanceUid: study.studyInstanceUid,
      target: orthancTarget('FINDSCU'),
      ...more,
    };
  }

  it('Orthanc: the manifest names every instance of the study with its series and SOP class', async () => {
    const service = importService(new StudyStore(join(workDir, 'plan-store')));
    const result = await service.planSender(plan()).send(recorder().control, new AbortController().signal);
    expect(byUid(result?.manifest ?? [])).toEqual(byUid(manifestOf(study)));
  });

  it('Orthanc: a series asked for lists that series only', async () => {
    const [, second] = study.series;
    const service = importService(new StudyStore(join(workDir, 'plan-store')));
    const result = await service
      .planSender(plan({ seriesInstanceUid: second.seriesInstanceUid }))
      .send(recorder().control, new AbortController().signal);
    expect(byUid(result?.manifest ?? [])).toEqual(
      byUid(manifestOf(study).filter((i) => i.seriesInstanceUid === second.seriesInstanceUid)),
    );
  });
});

describe('import by C-GET from Orthanc', () => {
  it('streams what the batch names into the study store, reported stored with its path; an instance it does not name is not kept', async () => {
    const store = new StudyStore(join(workDir, 'get-store'));
    const [first, second] = study.series;
    // The first series whole (one SERIES request), two of the second's three: the PACS is asked
    // for the whole second series too (wholeSeries), and sends its third instance, which the
    // batch does not name.
    const named = manifestOf(study).filter((i) => i.sopInstanceUid !== second.instances[2].sopInstanceUid);
    const recorded = recorder();
    const result = await importService(store)
      .retrieveSender(
        batchOf(named, {
          target: orthancTarget('GETSCU'),
          wholeSeries: [first.seriesInstanceUid, second.seriesInstanceUid],
        }),
      )
      .send(recorded.control, new AbortController().signal);

    expect(result).toEqual({ subOperations: { completed: 6, failed: 0, warning: 0 } });
    expect(recorded.fallbacks).toEqual([]);
    const outcomes = recorded.outcomes.map(({ outcome }) => outcome);
    expect(outcomes.map((o) => o.sopInstanceUid).sort()).toEqual(named.map((i) => i.sopInstanceUid).sort());
    for (const { outcome, bytes } of recorded.outcomes) {
      expect(outcome).toEqual({
        sopInstanceUid: outcome.sopInstanceUid,
        status: 'success',
        path: `studies/${study.studyInstanceUid}/${named.find((i) => i.sopInstanceUid === outcome.sopInstanceUid)?.seriesInstanceUid}/${outcome.sopInstanceUid}.dcm`,
      });
      expect(bytes).toBeGreaterThan(0);
    }
    await expectSameDataSets(
      named.map((i) => i.sopInstanceUid),
      (uid) => store.absolutePath(outcomes.find((o) => o.sopInstanceUid === uid)?.path ?? ''),
    );
    // Five files, nothing of the sixth, nothing left in the store's temporary folder.
    expect((await filesUnder(join(store.rootDir, 'studies'))).sort()).toEqual(
      named.map((i) => `${i.sopInstanceUid}.dcm`).sort(),
    );
    expect(await filesUnder(join(store.rootDir, 'tmp'))).toEqual([]);
  });

  it('instances whose SOP class the plan did not learn (dcmqrscp returns none): the common storage classes are offered, and they come', async () => {
    const store = new StudyStore(join(workDir, 'get-unknown-class'));
    const [first] = study.series;
    const named = manifestOf(study)
      .filter((i) => i.seriesInstanceUid === first.seriesInstanceUid)
      .map(({ sopInstanceUid, seriesInstanceUid }) => ({ sopInstanceUid, seriesInstanceUid }));
    const recorded = recorder();
    const result = await importService(store)
      .retrieveSender(
        batchOf(named, { target: orthancTarget('GETSCU'), wholeSeries: [first.seriesInstanceUid] }),
      )
      .send(recorded.control, new AbortController().signal);
    expect(result).toEqual({ subOperations: { completed: named.length, failed: 0, warning: 0 } });
    const outcomes = recorded.outcomes.map(({ outcome }) => outcome);
    expect(outcomes.map((o) => o.sopInstanceUid).sort()).toEqual(named.map((i) => i.sopInstanceUid).sort());
    await expectSameDataSets(
      named.map((i) => i.sopInstanceUid),
      (uid) => store.absolutePath(outcomes.find((o) => o.sopInstanceUid === uid)?.path ?? ''),
    );
  });

  it('a SOP class the batch gets wrong: without moveOnGetFailure the failure status fails the run (permanent)', async () => {
    const store = new StudyStore(join(workDir, 'get-wrong-class'));
    const service = importService(store);
    const wrong = manifestOf(study).map((i) => ({ ...i, sopClassUid: SECONDARY_CAPTURE }));
    const sender = service.retrieveSender(batchOf(wrong, { target: orthancTarget('GETSCU') }));
    const recorded = recorder();
    const error = await sendError(sender, recorded.control);
    expect(error).toBeInstanceOf(DimseError);
    expect((error as DimseError).code).toBe(DimseErrorCode.STATUS_FAILURE);
    expect(sender.classify(error)).toMatchObject({ transient: false, code: 'STATUS_FAILURE' });
    expect(recorded.fallbacks).toEqual([]);
  });
});

describe('import by C-GET from Orthanc, stopped', () => {
  it('stops once the run is stopped (C-CANCEL): CANCELLED, and every file it kept is reported', async () => {
    // More than one sync group (64 files): the first outcomes come while the C-GET goes on.
    const long = await generateStudy(join(workDir, 'long'), { series: 1, instancesPerSeries: 200 });
    cleanups.push(() => deleteStudyFromOrthanc(peers.orthanc, long.studyInstanceUid));
    await storescu(peers.orthanc, [long.directory], ['+sd', '+r']);
    const store = new StudyStore(join(workDir, 'get-stopped'));
    const stop = new AbortController();
    const recorded = recorder();
    const [series] = long.series;
    // Stopped while files wait for their sync (past the first group of 64, not at its end).
    const watch = setInterval(() => {
      void filesUnder(join(store.rootDir, 'studies')).then((files) => {
        if (files.length >= 70) stop.abort(new Error('worker shutting down'));
      });
    }, 2);
    const error = await importService(store)
      .retrieveSender({
        ...batchOf(manifestOf(long), { target: orthancTarget('GETSCU'), moveOnGetFailure: true }),
        studyInstanceUid: long.studyInstanceUid,
        wholeSeries: [series.seriesInstanceUid],
      })
      .send(recorded.control, stop.signal)
      .then(
        () => undefined,
        (caught: unknown) => caught,
      )
      .finally(() => clearInterval(watch));
    expect((error as DimseError).code).toBe(DimseErrorCode.CANCELLED);
    expect(recorded.fallbacks).toEqual([]);
    expect(recorded.outcomes.length).toBeGreaterThanOrEqual(64);
    expect(recorded.outcomes.length).toBeLessThan(200);
    expect((await filesUnder(join(store.rootDir, 'studies'))).sort()).toEqual(
      recorded.outcomes.map(({ outcome }) => `${outcome.sopInstanceUid}.dcm`).sort(),
    );
  });

  it("a study store that fails stops the C-GET and fails the run transient, with the store's error and no fallback", async () => {
    const root = join(workDir, 'get-broken-store');
    await mkdir(root, { recursive: true });
    // The store's temporary folder is a file: every write fails as a full or broken disk would.
    await writeFile(join(root, 'tmp'), 'not a folder');
    const recorded = recorder();
    const sender = importService(new StudyStore(root)).retrieveSender(
      batchOf(manifestOf(study), { target: orthancTarget('GETSCU'), moveOnGetFailure: true }),
    );
    const error = await sendError(sender, recorded.control);
    expect(error).not.toBeInstanceOf(DimseError);
    expect(sender.classify(error)).toEqual({
      transient: true,
      reason: expect.stringMatching(/EEXIST|ENOTDIR/) as unknown,
    });
    expect(recorded.outcomes).toEqual([]);
    expect(recorded.fallbacks).toEqual([]);
  });
});

describe('import by C-MOVE from Orthanc to DCMTK storescp', () => {
  it('reports the counts and no outcome of its own; every instance arrives with the same data set', async () => {
    const [, second] = study.series;
    const named = manifestOf(study).filter((i) => i.seriesInstanceUid === second.seriesInstanceUid);
    const recorded = recorder();
    const result = await importService(new StudyStore(join(workDir, 'move-store')))
      .retrieveSender(
        batchOf(named, {
          target: orthancTarget('PACSLINK'),
          operation: 'C-MOVE',
          wholeSeries: [second.seriesInstanceUid],
        }),
      )
      .send(recorded.control, new AbortController().signal);
    expect(result).toEqual({ subOperations: { completed: 3, failed: 0, warning: 0 } });
    expect(recorded.outcomes).toEqual([]);
    await expectSameDataSets(
      named.map((i) => i.sopInstanceUid),
      (uid) => join(peers.storescp.dir, `CT.${uid}`),
    );
  });

  it('get-then-move: a C-GET that fails with a status gives way to C-MOVE in the same run', async () => {
    const [first] = study.series;
    // Offered as Secondary Capture only, Orthanc cannot send the CT instances on the C-GET (0xC000).
    const named = manifestOf(study)
      .filter((i) => i.seriesInstanceUid === first.seriesInstanceUid)
      .map((i) => ({ ...i, sopClassUid: SECONDARY_CAPTURE }));
    const recorded = recorder();
    const result = await importService(new StudyStore(join(workDir, 'get-then-move-store')))
      .retrieveSender(
        batchOf(named, {
          target: orthancTarget('PACSLINK'),
          moveOnGetFailure: true,
          wholeSeries: [first.seriesInstanceUid],
        }),
      )
      .send(recorded.control, new AbortController().signal);
    expect(recorded.fallbacks).toEqual([
      {
        method: 'C-MOVE',
        reason: expect.stringMatching(/^C-GET not successful: C-GET answered status 0xC000/) as unknown,
      },
    ]);
    expect(result).toEqual({ subOperations: { completed: 3, failed: 0, warning: 0 } });
    await expectSameDataSets(
      named.map((i) => i.sopInstanceUid),
      (uid) => join(peers.storescp.dir, `CT.${uid}`),
    );
  });

  it('get-then-move: Orthanc refusing C-GET to a modality without AllowGet (it aborts) gives way to C-MOVE', async () => {
    const modality = `pacslink-noget-${uniqueSuffix()}`;
    const callingAeTitle = `NOGET${uniqueSuffix().slice(-8).toUpperCase()}`;
    await orthancRest(peers.orthanc, 'PUT', `/modalities/${modality}`, {
      AET: callingAeTitle,
      Host: '127.0.0.1',
      Port: 11299,
      AllowGet: false,
    });
    cleanups.push(() => orthancRest(peers.orthanc, 'DELETE', `/modalities/${modality}`));
    const [, second] = study.series;
    const named = manifestOf(study).filter((i) => i.seriesInstanceUid === second.seriesInstanceUid);
    const recorded = recorder();
    const result = await importService(new StudyStore(join(workDir, 'orthanc-noget-store')))
      .retrieveSender(
        batchOf(named, {
          target: orthancTarget(callingAeTitle),
          moveOnGetFailure: true,
          wholeSeries: [second.seriesInstanceUid],
        }),
      )
      .send(recorded.control, new AbortController().signal);
    expect(recorded.fallbacks).toEqual([
      {
        method: 'C-MOVE',
        reason: expect.stringMatching(
          /^C-GET refused, the PACS aborted the association at the request/,
        ) as unknown,
      },
    ]);
    expect(result).toEqual({ subOperations: { completed: 3, failed: 0, warning: 0 } });
    expect(recorded.outcomes).toEqual([]);
  });
});

describe('import from a PACS without C-GET (DCMTK dcmqrscp --disable-get)', () => {
  let dcmqrscp: DcmtkPeer;
  let destination: DcmtkPeer;
  let aborting: DcmtkPeer;
  let destinationDir: string;

  /** dcmqrscp moves only to AE titles of its HostTable: our destination, a storescp of this test's. */
  beforeAll(async () => {
    destinationDir = join(workDir, 'dcmqrscp-destination');
    await mkdir(destinationDir, { recursive: true });
    destination = await startDcmtk(
      'storescp',
      (port) => ['-aet', 'IMPORTDEST', '-od', destinationDir, String(port)],
      'IMPORTDEST',
    );
    cleanups.push(() => destination.stop());
    // A destination that takes no instance: it aborts each association at its first C-STORE-RQ.
    aborting = await startDcmtk(
      'storescp',
      (port) => ['-aet', 'ABORTDEST', '--abort-after', '-od', destinationDir, String(port)],
      'ABORTDEST',
    );
    cleanups.push(() => aborting.stop());
    dcmqrscp = await startDcmqrscp(join(workDir, 'dcmqrscp'), 'NOGET', {
      extra: ['--disable-get'],
      moveDestinations: [
        { aeTitle: 'IMPORTDEST', port: destination.port },
        { aeTitle: 'ABORTDEST', port: aborting.port },
      ],
    });
    cleanups.push(() => dcmqrscp.stop());
    await storescu({ aet: 'NOGET', host: '127.0.0.1', port: dcmqrscp.port }, study.files);
  });

  function noGetTarget() {
    return {
      host: '127.0.0.1',
      port: dcmqrscp.port,
      calledAeTitle: 'NOGET',
      callingAeTitle: 'PACSLINK',
      timeoutMs: TIMEOUT_MS,
    };
  }

  it('get-then-move: the C-GET context refused, the run says so and moves the batch (wholeSeries and a UID list)', async () => {
    const [first, second] = study.series;
    const named = manifestOf(study).filter((i) => i.sopInstanceUid !== second.instances[0].sopInstanceUid);
    const recorded = recorder();
    const result = await importService(new StudyStore(join(workDir, 'noget-store')))
      .retrieveSender(
        batchOf(named, {
          target: noGetTarget(),
          moveOnGetFailure: true,
          moveDestinationAeTitle: 'IMPORTDEST',
          wholeSeries: [first.seriesInstanceUid],
        }),
      )
      .send(recorded.control, new AbortController().signal);
    expect(recorded.fallbacks).toEqual([
      {
        method: 'C-MOVE',
        reason: expect.stringMatching(
          /^C-GET not possible: the PACS does not accept Study Root Query\/Retrieve \(C-GET\)/,
        ) as unknown,
      },
    ]);
    expect(result).toEqual({ subOperations: { completed: 5, failed: 0, warning: 0 } });
    expect(recorded.outcomes).toEqual([]);
    await expectSameDataSets(
      named.map((i) => i.sopInstanceUid),
      (uid) => join(destinationDir, `CT.${uid}`),
    );
    expect(await filesUnder(destinationDir)).not.toContain(`CT.${second.instances[0].sopInstanceUid}`);
  });

  it('C-MOVE to a destination that takes nothing: the PACS refuses (0xA702) and the run fails transient, with no outcome', async () => {
    const [first] = study.series;
    const named = manifestOf(study).filter((i) => i.seriesInstanceUid === first.seriesInstanceUid);
    const recorded = recorder();
    const sender = importService(new StudyStore(join(workDir, 'noget-failed'))).retrieveSender(
      batchOf(named, {
        target: noGetTarget(),
        operation: 'C-MOVE',
        moveDestinationAeTitle: 'ABORTDEST',
        wholeSeries: [first.seriesInstanceUid],
      }),
    );
    const error = await sendError(sender, recorded.control);
    expect(error).toBeInstanceOf(DimseError);
    expect((error as DimseError).details.status).toBe(0xa702);
    expect(sender.classify(error)).toMatchObject({
      transient: true,
      code: 'STATUS_FAILURE',
      unreachable: false,
    });
    expect(recorded.outcomes).toEqual([]);
  });

  it('without moveOnGetFailure the refused C-GET context fails the run, permanent', async () => {
    const sender = importService(new StudyStore(join(workDir, 'noget-only'))).retrieveSender(
      batchOf(manifestOf(study), { target: noGetTarget() }),
    );
    const recorded = recorder();
    const error = await sendError(sender, recorded.control);
    expect((error as DimseError).code).toBe(DimseErrorCode.PRESENTATION_CONTEXT_REJECTED);
    expect(sender.classify(error)).toMatchObject({ transient: false, code: 'PRESENTATION_CONTEXT_REJECTED' });
    expect(recorded.fallbacks).toEqual([]);
  });

  it('the plan: dcmqrscp does not return SOPClassUID at IMAGE level; the manifest lists every instance without a class', async () => {
    const result = await importService(new StudyStore(join(workDir, 'noget-plan')))
      .planSender({
        transferId: randomUUID(),
        batchId: randomUUID(),
        attempt: 1,
        studyInstanceUid: study.studyInstanceUid,
        target: noGetTarget(),
      })
      .send(recorder().control, new AbortController().signal);
    expect(byUid(result?.manifest ?? [])).toEqual(
      byUid(
        manifestOf(study).map(({ sopInstanceUid, seriesInstanceUid }) => ({
          sopInstanceUid,
          seriesInstanceUid,
        })),
      ),
    );
  });
});
