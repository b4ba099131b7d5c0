import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { part10Stream } from '@pacslink/dicom';
import { StudyStore } from '@pacslink/store';
import {
  deleteStudyFromOrthanc,
  type GeneratedStudy,
  generateStudy,
  type PeerEndpoints,
  startPeers,
  storescu,
  testEgressGuard,
  startDcmqrscp,
} from '@pacslink/testing';
import {
  DimseError,
  DimseErrorCode,
  get,
  IMPLEMENTATION_CLASS_UID,
  type DimseConnectionOptions,
  type GetOptions,
  type RetrievedInstance,
  type SubOperationCounts,
} from '../src';
import { datasetBytes, datasetBytesOf, SopClassUid, TransferSyntaxUid } from './support/store-fixtures';

// C-GET SCU against real peers: a generated study put into the shared Orthanc with storescu is
// retrieved through our engine into a StudyStore and compared byte for byte; a dcmqrscp with
// --disable-get is the PACS that accepts the association but not the C-GET context.
jest.setTimeout(120_000);

const GET_SOP_CLASS = '1.2.840.10008.5.1.4.1.2.2.3';
const TIMEOUTS = {
  connectTimeoutMs: 5_000,
  associationTimeoutMs: 5_000,
  pduTimeoutMs: 20_000,
  egress: testEgressGuard(),
};

let peers: PeerEndpoints;
let workDir: string;
let study: GeneratedStudy;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-dimse-get-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  study = await generateStudy(workDir, {
    series: 2,
    instancesPerSeries: 3,
    patient: { charset: 'ISO_IR 192' },
  });
  cleanups.push(() => deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid));
  await storescu(peers.orthanc, study.files);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** GETSCU is one of the calling AE titles the peers' Orthanc answers C-GET to (DicomModalities). */
function orthanc(callingAeTitle = 'GETSCU'): DimseConnectionOptions {
  return {
    host: peers.orthanc.host,
    port: peers.orthanc.port,
    callingAeTitle,
    calledAeTitle: peers.orthanc.aet,
    ...TIMEOUTS,
  };
}

/** The sink dimse-worker's import will use: each data set as a Part 10 file into the study store. */
function storeInto(studyStore: StudyStore, seen: RetrievedInstance[]): GetOptions['sink'] {
  return async (instance, dataSet) => {
    seen.push(instance);
    await studyStore.write(
      part10Stream(
        { ...instance, implementationClassUid: IMPLEMENTATION_CLASS_UID, sourceAeTitle: 'ORTHANC' },
        dataSet,
      ),
    );
    return { status: 0 };
  };
}

function getOptions(sink: GetOptions['sink'], more: Partial<GetOptions> = {}): GetOptions {
  return {
    storageSopClasses: [SopClassUid.CTImageStorage],
    transferSyntaxes: [TransferSyntaxUid.ExplicitVRLittleEndian, TransferSyntaxUid.ImplicitVRLittleEndian],
    sink,
    ...more,
  };
}

async function getError(promise: Promise<unknown>): Promise<DimseError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError, got ${String(error)}`);
  return error;
}

async function drain(dataSet: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of dataSet as AsyncIterable<Buffer>) bytes += chunk.length;
  return bytes;
}

describe('get from Orthanc', () => {
  it('retrieves a study into the study store: every data set byte for byte, counts and progress', async () => {
    const studyStore = new StudyStore(join(workDir, 'store-study'));
    const seen: RetrievedInstance[] = [];
    const progress: SubOperationCounts[] = [];
    const result = await get(
      orthanc(),
      { level: 'STUDY', studyInstanceUid: study.studyInstanceUid },
      getOptions(storeInto(studyStore, seen), { onProgress: (counts) => progress.push(counts) }),
    );

    expect(result).toMatchObject({
      status: 'success',
      statusCode: 0,
      completed: 6,
      failed: 0,
      warning: 0,
      received: 6,
    });
    expect(result.failedSopInstanceUids).toEqual([]);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)?.remaining).toBeLessThan(6);
    for (const series of study.series) {
      for (const instance of series.instances) {
        const stored = await readFile(
          join(
            studyStore.rootDir,
            'studies',
            study.studyInstanceUid,
            series.seriesInstanceUid,
            `${instance.sopInstanceUid}.dcm`,
          ),
        );
        expect(datasetBytes(stored).equals(await datasetBytesOf(instance.file))).toBe(true);
      }
    }
    expect(new Set(seen.map((instance) => instance.transferSyntaxUid))).toEqual(
      new Set([TransferSyntaxUid.ExplicitVRLittleEndian]),
    );
  });

  it('retrieves one series, and two instances of a series (UID list matching)', async () => {
    const [first, second] = study.series;
    const bySeries: RetrievedInstance[] = [];
    await expect(
      get(
        orthanc(),
        {
          level: 'SERIES',
          studyInstanceUid: study.studyInstanceUid,
          seriesInstanceUids: [second.seriesInstanceUid],
        },
        getOptions(async (instance, dataSet) => {
          bySeries.push(instance);
          await drain(dataSet);
          return { status: 0 };
        }),
      ),
    ).resolves.toMatchObject({ completed: 3, received: 3 });
    expect(bySeries.map((instance) => instance.sopInstanceUid).sort()).toEqual(
      second.instances.map((instance) => instance.sopInstanceUid).sort(),
    );

    const wanted = first.instances.slice(0, 2).map((instance) => instance.sopInstanceUid);
    const byImage: string[] = [];
    await expect(
      get(
        orthanc(),
        {
          level: 'IMAGE',
          studyInstanceUid: study.studyInstanceUid,
          seriesInstanceUids: [first.seriesInstanceUid],
          sopInstanceUids: wanted,
        },
        getOptions(async (instance, dataSet) => {
          byImage.push(instance.sopInstanceUid);
          await drain(dataSet);
          return { status: 0 };
        }),
      ),
    ).resolves.toMatchObject({ completed: 2, received: 2 });
    expect(byImage.sort()).toEqual([...wanted].sort());
  });

  it("answers the sink's failure status: the PACS counts it failed and names the instance", async () => {
    const refused = study.series[0].instances[1].sopInstanceUid;
    const result = await get(
      orthanc(),
      {
        level: 'SERIES',
        studyInstanceUid: study.studyInstanceUid,
        seriesInstanceUids: [study.series[0].seriesInstanceUid],
      },
      getOptions(async (instance, dataSet) => {
        if (instance.sopInstanceUid === refused) {
          dataSet.destroy();
          return { status: 0xa700, errorComment: 'disk full (test)' };
        }
        await drain(dataSet);
        return { status: 0 };
      }),
    );
    expect(result).toMatchObject({
      status: 'warning',
      statusCode: 0xb000,
      completed: 2,
      failed: 1,
      received: 3,
    });
    expect(result.failedSopInstanceUids).toEqual([refused]);
  });

  it('offers no storage class the study has: a failure status with its counts and the instance named', async () => {
    const error = await getError(
      get(
        orthanc(),
        { level: 'STUDY', studyInstanceUid: study.studyInstanceUid },
        getOptions(() => Promise.resolve({ status: 0 }), {
          storageSopClasses: [SopClassUid.SecondaryCaptureImageStorage],
        }),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.STATUS_FAILURE);
    // Orthanc stops at the first sub-operation it cannot perform: 0xC000, failed 1.
    expect(error.details.status).toBe(0xc000);
    expect(error.details.subOperations).toMatchObject({ completed: 0, failed: 1 });
    const first = study.series.flatMap((series) =>
      series.instances.map((instance) => instance.sopInstanceUid),
    );
    expect(first).toEqual(expect.arrayContaining([...(error.details.failedSopInstanceUids ?? [])]));
    expect(error.details.failedSopInstanceUids).toHaveLength(1);
  });

  it('a data set of many PDUs read by a slow sink arrives whole (held back, not buffered)', async () => {
    const big = await generateStudy(workDir, {
      series: 1,
      instancesPerSeries: 1,
      instanceBytes: 6 * 1024 * 1024,
    });
    cleanups.push(() => deleteStudyFromOrthanc(peers.orthanc, big.studyInstanceUid));
    await storescu(peers.orthanc, big.files);
    const chunks: Buffer[] = [];
    let mostQueued = 0;
    const result = await get(
      orthanc(),
      { level: 'STUDY', studyInstanceUid: big.studyInstanceUid },
      getOptions(async (_instance, dataSet) => {
        for await (const chunk of dataSet as AsyncIterable<Buffer>) {
          chunks.push(chunk);
          // What waits with us, on either side of the stream.
          mostQueued = Math.max(mostQueued, dataSet.readableLength + (dataSet as Duplex).writableLength);
          // A disk slower than the network: 1 ms per chunk.
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        return { status: 0 };
      }),
    );
    expect(result).toMatchObject({ status: 'success', completed: 1, received: 1 });
    const [instance] = big.series[0].instances;
    expect(Buffer.concat(chunks).equals(await datasetBytesOf(instance.file))).toBe(true);
    expect(mostQueued).toBeLessThanOrEqual(1024 * 1024);
  });

  it('a calling AE title Orthanc does not know: a clear error, no hang', async () => {
    const error = await getError(
      get(
        orthanc('NOBODY'),
        { level: 'STUDY', studyInstanceUid: study.studyInstanceUid },
        getOptions(() => Promise.resolve({ status: 0 })),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.ASSOCIATION_ABORTED);
  });
});

describe('get from DCMTK dcmqrscp', () => {
  it('retrieves the study it was sent: the same bytes, from a second C-GET implementation', async () => {
    const dcmqrscp = await startDcmqrscp(join(workDir, 'dcmqrscp-get'), 'QRSCP');
    cleanups.push(() => dcmqrscp.stop());
    await storescu({ aet: 'QRSCP', host: '127.0.0.1', port: dcmqrscp.port }, study.files);
    const chunks = new Map<string, Buffer[]>();
    const result = await get(
      {
        host: '127.0.0.1',
        port: dcmqrscp.port,
        callingAeTitle: 'PACSLINK',
        calledAeTitle: 'QRSCP',
        ...TIMEOUTS,
      },
      { level: 'STUDY', studyInstanceUid: study.studyInstanceUid },
      getOptions(async (instance, dataSet) => {
        const received: Buffer[] = [];
        chunks.set(instance.sopInstanceUid, received);
        for await (const chunk of dataSet as AsyncIterable<Buffer>) received.push(chunk);
        return { status: 0 };
      }),
    );
    expect(result).toMatchObject({ status: 'success', completed: 6, failed: 0, received: 6 });
    for (const instance of study.series.flatMap((series) => series.instances)) {
      const received = Buffer.concat(chunks.get(instance.sopInstanceUid) ?? []);
      expect(received.equals(await datasetBytesOf(instance.file))).toBe(true);
    }
  });
});

describe('get from a PACS without C-GET (dcmqrscp --disable-get)', () => {
  it('fails PRESENTATION_CONTEXT_REJECTED naming the C-GET SOP class before sending anything', async () => {
    const dcmqrscp = await startDcmqrscp(join(workDir, 'dcmqrscp'), 'NOGET', { extra: ['--disable-get'] });
    cleanups.push(() => dcmqrscp.stop());
    const started = Date.now();
    const error = await getError(
      get(
        {
          host: '127.0.0.1',
          port: dcmqrscp.port,
          callingAeTitle: 'PACSLINK',
          calledAeTitle: 'NOGET',
          ...TIMEOUTS,
        },
        { level: 'STUDY', studyInstanceUid: study.studyInstanceUid },
        getOptions(() => Promise.resolve({ status: 0 })),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.PRESENTATION_CONTEXT_REJECTED);
    expect(error.details.abstractSyntaxUid).toBe(GET_SOP_CLASS);
    expect(error.message).toMatch(/does not accept Study Root Query\/Retrieve \(C-GET\)/);
    expect(Date.now() - started).toBeLessThan(TIMEOUTS.pduTimeoutMs);
  });
});
