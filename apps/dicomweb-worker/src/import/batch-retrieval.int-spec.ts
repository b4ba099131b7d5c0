import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ImportBatchData, InstanceOutcomeData } from '@pacslink/contracts';
import { DicomwebError, DicomwebErrorCode, type PartHandler, type ResourceRequest } from '@pacslink/dicomweb';
import { StudyStore, type StoredInstance } from '@pacslink/store';
import { generateStudy, type GeneratedInstance, type GeneratedStudy } from '@pacslink/testing';
import {
  COMPLETE_ANSWER_GRACE_MS,
  PARALLEL_REQUESTS,
  UnreadablePartsError,
  retrieveBatch,
  type BatchRetrievalDependencies,
} from './batch-retrieval';

// retrieveBatch against a real StudyStore on a temp dir; the WADO-RS answers are played by a double
// that hands files to the part handler as the client does (the real Orthanc: import.int-spec.ts).

let workDir: string;
let study: GeneratedStudy;
let store: StudyStore;

/** What the double answers to a GET: the parts' sources, and what it does after the last part. */
interface Answer {
  parts: (() => Readable)[];
  /** Stay open after the last part until the GET is aborted (Orthanc's stall), or at most this long. */
  stallMs?: number;
}

interface Played {
  requests: ResourceRequest[];
  maxInFlight: number;
}

function dependencies(
  answer: (request: ResourceRequest) => Answer,
  notes: string[] = [],
): { deps: BatchRetrievalDependencies; played: Played } {
  const played: Played = { requests: [], maxInFlight: 0 };
  let inFlight = 0;
  const deps: BatchRetrievalDependencies = {
    retrieve: async (request: ResourceRequest, handle: PartHandler) => {
      played.requests.push(request);
      inFlight += 1;
      played.maxInFlight = Math.max(played.maxInFlight, inFlight);
      const aborted = () => new DicomwebError(DicomwebErrorCode.Aborted, 'the request was cancelled');
      try {
        const { parts, stallMs } = answer(request);
        for (const part of parts) {
          await new Promise(setImmediate);
          if (request.signal?.aborted) throw aborted();
          await handle(part(), { seriesInstanceUid: request.seriesInstanceUid });
        }
        if (stallMs !== undefined) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, stallMs);
            request.signal?.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve();
            });
          });
          throw request.signal?.aborted
            ? aborted()
            : new DicomwebError(DicomwebErrorCode.ResponseTimeout, 'stopped sending its answer');
        }
        return { parts: parts.length };
      } finally {
        inFlight -= 1;
      }
    },
    write: (part) => store.write(part),
    note: (message) => notes.push(message),
    timeoutMs: 30_000,
    acceptTransferSyntaxes: [],
  };
  return { deps, played };
}

const fileOf = (instance: GeneratedInstance) => () => createReadStream(instance.file);
const instancesOf = (...series: number[]) => series.flatMap((index) => study.series[index].instances);

function batchOf(instances: readonly GeneratedInstance[], wholeSeries: string[] = []): ImportBatchData {
  const seriesOf = (instance: GeneratedInstance) =>
    study.series.find((series) => series.instances.includes(instance))?.seriesInstanceUid as string;
  return {
    transferId: '00000000-0000-4000-8000-000000000001',
    batchId: '00000000-0000-4000-8000-000000000002',
    attempt: 1,
    studyInstanceUid: study.studyInstanceUid,
    instances: instances.map((instance) => ({
      sopInstanceUid: instance.sopInstanceUid,
      seriesInstanceUid: seriesOf(instance),
      sopClassUid: instance.sopClassUid,
    })),
    wholeSeries,
  };
}

/** The instances of a GET as the PACS holds them: the series' or the one instance's. */
function honest(request: ResourceRequest): Answer {
  const series = study.series.find((one) => one.seriesInstanceUid === request.seriesInstanceUid);
  const instances = (series?.instances ?? []).filter(
    (one) => request.sopInstanceUid === undefined || one.sopInstanceUid === request.sopInstanceUid,
  );
  return { parts: instances.map(fileOf) };
}

function recorder(): {
  outcomes: InstanceOutcomeData[];
  bytes: (number | undefined)[];
  run: { outcome: (o: InstanceOutcomeData, b?: number) => void };
} {
  const outcomes: InstanceOutcomeData[] = [];
  const bytes: (number | undefined)[] = [];
  return {
    outcomes,
    bytes,
    run: {
      outcome: (outcome, size) => {
        outcomes.push(outcome);
        bytes.push(size);
      },
    },
  };
}

const neverAborted = () => new AbortController().signal;
const temporaryFiles = async () => readdir(join(store.rootDir, 'tmp')).catch(() => []);

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-import-batch-'));
  study = await generateStudy(join(workDir, 'study'), { series: 3, instancesPerSeries: 3 });
});

beforeEach(async () => {
  store = new StudyStore(await mkdtemp(join(workDir, 'store-')));
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('retrieveBatch', () => {
  it('a GET per whole series and per other instance; each stored file reported with its path and size', async () => {
    const [first, second] = study.series;
    const wanted = [...first.instances, second.instances[1]];
    const { deps, played } = dependencies(honest);
    const { outcomes, bytes, run } = recorder();
    await retrieveBatch(deps, batchOf(wanted, [first.seriesInstanceUid]), run, neverAborted());
    expect(played.requests.map((one) => [one.seriesInstanceUid, one.sopInstanceUid])).toEqual([
      [first.seriesInstanceUid, undefined],
      [second.seriesInstanceUid, second.instances[1].sopInstanceUid],
    ]);
    expect(outcomes.map((one) => one.sopInstanceUid).sort()).toEqual(
      wanted.map((one) => one.sopInstanceUid).sort(),
    );
    for (const [index, outcome] of outcomes.entries()) {
      expect(outcome.status).toBe('success');
      const instance = wanted.find(
        (one) => one.sopInstanceUid === outcome.sopInstanceUid,
      ) as GeneratedInstance;
      expect(await readFile(store.absolutePath(outcome.path as string))).toEqual(
        await readFile(instance.file),
      );
      expect(bytes[index]).toBe(instance.bytes);
    }
  });

  it('an instance the answer does not hold is a failure outcome naming why', async () => {
    const [first] = study.series;
    const { deps } = dependencies(() => ({ parts: first.instances.slice(0, 2).map(fileOf) }));
    const { outcomes, run } = recorder();
    await retrieveBatch(deps, batchOf(first.instances, [first.seriesInstanceUid]), run, neverAborted());
    expect(outcomes.filter((one) => one.status === 'failure')).toEqual([
      {
        sopInstanceUid: first.instances[2].sopInstanceUid,
        status: 'failure',
        reason: `the PACS did not return it: the WADO-RS answer for series ${first.seriesInstanceUid} does not hold it`,
      },
    ]);
  });

  it('an instance GET answered 404 is that instance’s failure; a series GET answered 404 fails the batch', async () => {
    const [first, second] = study.series;
    const gone = () => {
      throw new DicomwebError(DicomwebErrorCode.StudyNotFound, 'WADO-RS: the server answers 404 Not Found', {
        httpStatus: 404,
      });
    };
    const { deps } = dependencies((request) =>
      request.sopInstanceUid === first.instances[0].sopInstanceUid ? gone() : honest(request),
    );
    const { outcomes, run } = recorder();
    await retrieveBatch(deps, batchOf(first.instances.slice(0, 2)), run, neverAborted());
    expect(outcomes.find((one) => one.sopInstanceUid === first.instances[0].sopInstanceUid)).toEqual({
      sopInstanceUid: first.instances[0].sopInstanceUid,
      status: 'failure',
      reason: 'the PACS did not return it: WADO-RS: the server answers 404 Not Found',
    });
    expect(outcomes.find((one) => one.sopInstanceUid === first.instances[1].sopInstanceUid)?.status).toBe(
      'success',
    );
    const { deps: seriesGone } = dependencies(gone);
    await expect(
      retrieveBatch(
        seriesGone,
        batchOf(second.instances, [second.seriesInstanceUid]),
        recorder().run,
        neverAborted(),
      ),
    ).rejects.toMatchObject({ code: DicomwebErrorCode.StudyNotFound });
  });

  it('keeps no instance the batch does not name, and leaves the file the store holds for it as it was', async () => {
    const [first] = study.series;
    const [kept, , stranger] = first.instances;
    const held = await store.write(createReadStream(stranger.file));
    const before = await stat(store.absolutePath(held.path));
    const notes: string[] = [];
    const { deps } = dependencies(honest, notes);
    const { outcomes, run } = recorder();
    await retrieveBatch(
      deps,
      batchOf(first.instances.slice(0, 2), [first.seriesInstanceUid]),
      run,
      neverAborted(),
    );
    expect(outcomes.map((one) => one.sopInstanceUid).sort()).toEqual(
      first.instances
        .slice(0, 2)
        .map((one) => one.sopInstanceUid)
        .sort(),
    );
    expect(outcomes.some((one) => one.sopInstanceUid === stranger.sopInstanceUid)).toBe(false);
    // not renamed over: the same inode, untouched
    const after = await stat(store.absolutePath(held.path));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(await temporaryFiles()).toEqual([]);
    expect(notes).toEqual(['import: an instance the batch does not name was not kept']);
    expect(outcomes.find((one) => one.sopInstanceUid === kept.sopInstanceUid)?.status).toBe('success');
  });

  it('an instance GET answered with what the store refuses: a failure outcome with the store’s reason', async () => {
    const [first] = study.series;
    const junk = () => createReadStream(__filename);
    const { deps } = dependencies(() => ({ parts: [junk] }));
    const { outcomes, run } = recorder();
    await retrieveBatch(deps, batchOf([first.instances[0]]), run, neverAborted());
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      sopInstanceUid: first.instances[0].sopInstanceUid,
      status: 'failure',
    });
    expect(outcomes[0].reason).toMatch(
      /^the PACS sent it, but the study store refuses it: not a DICOM Part 10 file/,
    );
  });

  it('a series answer with an unreadable part and an instance missing fails transient-ly, naming both', async () => {
    const [first] = study.series;
    const junk = () => createReadStream(__filename);
    const { deps } = dependencies(() => ({
      parts: [fileOf(first.instances[0]), junk, fileOf(first.instances[2])],
    }));
    const { outcomes, run } = recorder();
    const retrieval = retrieveBatch(
      deps,
      batchOf(first.instances, [first.seriesInstanceUid]),
      run,
      neverAborted(),
    );
    await expect(retrieval).rejects.toThrow(UnreadablePartsError);
    await expect(retrieval).rejects.toThrow(
      `1 part(s) of the WADO-RS answer for series ${first.seriesInstanceUid} of study ${study.studyInstanceUid} are not DICOM the study store can read`,
    );
    expect(outcomes.map((one) => one.status)).toEqual(['success', 'success']);
  });

  it('stops at the next instance boundary once aborted: the instance being stored is stored and reported', async () => {
    const [first] = study.series;
    const stop = new AbortController();
    const { deps, played } = dependencies(honest);
    const outcomes: InstanceOutcomeData[] = [];
    const write = deps.write;
    deps.write = async (part) => {
      // aborted while the first instance streams into the store
      stop.abort();
      return write(part);
    };
    const retrieval = retrieveBatch(
      deps,
      batchOf(
        [...first.instances, ...instancesOf(1)],
        [first.seriesInstanceUid, study.series[1].seriesInstanceUid],
      ),
      { outcome: (outcome) => outcomes.push(outcome) },
      stop.signal,
    );
    await expect(retrieval).rejects.toMatchObject({ code: DicomwebErrorCode.Aborted });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0].status).toBe('success');
    expect(played.requests[0].signal?.aborted).toBe(true);
    expect(await temporaryFiles()).toEqual([]);
  });

  it(`takes an answer that stays open after every instance asked for as complete, after ${COMPLETE_ANSWER_GRACE_MS} ms`, async () => {
    const [first] = study.series;
    const notes: string[] = [];
    const { deps } = dependencies((request) => ({ ...honest(request), stallMs: 20_000 }), notes);
    const { outcomes, run } = recorder();
    const started = Date.now();
    await retrieveBatch(deps, batchOf(first.instances, [first.seriesInstanceUid]), run, neverAborted());
    expect(Date.now() - started).toBeLessThan(COMPLETE_ANSWER_GRACE_MS + 5_000);
    expect(outcomes.map((one) => one.status)).toEqual(['success', 'success', 'success']);
    expect(notes).toEqual(['import: a WADO-RS answer stayed open after every instance asked for; closed']);
  });

  it('an answer that stalls with instances still to come fails as the client says (RESPONSE_TIMEOUT)', async () => {
    const [first] = study.series;
    const { deps } = dependencies(() => ({ parts: first.instances.slice(0, 2).map(fileOf), stallMs: 3_000 }));
    const { outcomes, run } = recorder();
    await expect(
      retrieveBatch(deps, batchOf(first.instances, [first.seriesInstanceUid]), run, neverAborted()),
    ).rejects.toMatchObject({ code: DicomwebErrorCode.ResponseTimeout });
    expect(outcomes.map((one) => one.status)).toEqual(['success', 'success']);
  });

  it('reads the answer no faster than the store writes (back-pressure through the batch guard)', async () => {
    const large = await generateStudy(join(workDir, 'large'), {
      series: 1,
      instancesPerSeries: 1,
      instanceBytes: 16 * 1024 * 1024,
    });
    const [instance] = large.series[0].instances;
    let produced = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of createReadStream(instance.file, { highWaterMark: 64 * 1024 })) {
        produced += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    }
    let producedWhileStalled = 0;
    const { deps } = dependencies(() => ({ parts: [() => Readable.from(counted(), { objectMode: false })] }));
    deps.write = async (part) => {
      let first = true;
      for await (const chunk of part as AsyncIterable<Buffer>) {
        if (!first) continue;
        first = false;
        expect(chunk.length).toBeGreaterThan(0);
        // a store that stalls after its first chunk
        await new Promise((resolve) => setTimeout(resolve, 300));
        producedWhileStalled = produced;
      }
      return {
        sopInstanceUid: instance.sopInstanceUid,
        path: 'studies/x/y/z.dcm',
        sizeBytes: instance.bytes,
      } as StoredInstance;
    };
    const batch = {
      ...batchOf([]),
      studyInstanceUid: large.studyInstanceUid,
      instances: [
        {
          sopInstanceUid: instance.sopInstanceUid,
          seriesInstanceUid: large.series[0].seriesInstanceUid,
          sopClassUid: instance.sopClassUid,
        },
      ],
    };
    const { outcomes, run } = recorder();
    await retrieveBatch(deps, batch, run, neverAborted());
    expect(outcomes.map((one) => one.status)).toEqual(['success']);
    expect(produced).toBe(instance.bytes);
    // a few 64 KiB chunks ahead at most, not the 16 MB instance
    expect(producedWhileStalled).toBeLessThan(1024 * 1024);
  });

  it(`runs at most ${PARALLEL_REQUESTS} GETs at once`, async () => {
    const { deps, played } = dependencies(honest);
    const { outcomes, run } = recorder();
    await retrieveBatch(deps, batchOf(instancesOf(0, 1, 2)), run, neverAborted());
    expect(played.requests).toHaveLength(9);
    expect(played.maxInFlight).toBe(PARALLEL_REQUESTS);
    expect(outcomes.filter((one) => one.status === 'success')).toHaveLength(9);
  });
});
