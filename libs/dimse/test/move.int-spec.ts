import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deleteStudyFromOrthanc,
  type GeneratedStudy,
  generateStudy,
  type PeerEndpoints,
  startPeers,
  storescu,
  testEgressGuard,
} from '@pacslink/testing';
import {
  DimseError,
  DimseErrorCode,
  move,
  type DimseConnectionOptions,
  type SubOperationCounts,
} from '../src';
import { datasetBytes, datasetBytesOf } from './support/store-fixtures';

// C-MOVE SCU against the shared Orthanc: a generated study put into it with storescu is moved to
// the shared DCMTK storescp (registered in Orthanc's DicomModalities as STORESCP) and the files
// storescp wrote are compared with what was put in.
jest.setTimeout(120_000);

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
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-dimse-move-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  study = await generateStudy(workDir, { series: 2, instancesPerSeries: 2 });
  cleanups.push(() => deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid));
  await storescu(peers.orthanc, study.files);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** PACSLINK is one of the calling AE titles the peers' Orthanc answers C-MOVE to. */
function orthanc(callingAeTitle = 'PACSLINK'): DimseConnectionOptions {
  return {
    host: peers.orthanc.host,
    port: peers.orthanc.port,
    callingAeTitle,
    calledAeTitle: peers.orthanc.aet,
    ...TIMEOUTS,
  };
}

async function moveError(promise: Promise<unknown>): Promise<DimseError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError, got ${String(error)}`);
  return error;
}

describe('move from Orthanc', () => {
  it('moves a study to storescp: counts, progress, and every file with the same data set bytes', async () => {
    const progress: SubOperationCounts[] = [];
    const result = await move(
      orthanc(),
      { level: 'STUDY', studyInstanceUid: study.studyInstanceUid },
      { destinationAeTitle: peers.storescp.aet, onProgress: (counts) => progress.push(counts) },
    );

    expect(result).toMatchObject({ status: 'success', statusCode: 0, completed: 4, failed: 0, warning: 0 });
    expect(result.failedSopInstanceUids).toEqual([]);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)?.remaining).toBeLessThan(4);
    for (const instance of study.series.flatMap((series) => series.instances)) {
      const received = await readFile(join(peers.storescp.dir, `CT.${instance.sopInstanceUid}`));
      expect(datasetBytes(received).equals(await datasetBytesOf(instance.file))).toBe(true);
    }
  });

  it('moves one series only', async () => {
    const [, second] = study.series;
    await expect(
      move(
        orthanc(),
        {
          level: 'SERIES',
          studyInstanceUid: study.studyInstanceUid,
          seriesInstanceUids: [second.seriesInstanceUid],
        },
        { destinationAeTitle: peers.storescp.aet },
      ),
    ).resolves.toMatchObject({ status: 'success', completed: 2, failed: 0 });
  });

  it('a destination the PACS does not know: STATUS_FAILURE with its status', async () => {
    const error = await moveError(
      move(
        orthanc(),
        { level: 'STUDY', studyInstanceUid: study.studyInstanceUid },
        { destinationAeTitle: 'NOWHERE' },
      ),
    );
    expect(error.code).toBe(DimseErrorCode.STATUS_FAILURE);
    // Orthanc answers 0xC000 (unable to process) rather than PS3.4's 0xA801 (destination unknown).
    expect(error.details.status).toBe(0xc000);
    expect(error.message).toMatch(/^C-MOVE answered status 0xC000 \(failed: unable to process\)/);
  });

  it('refuses an invalid destination AE title before connecting', async () => {
    const error = await moveError(
      move(
        orthanc(),
        { level: 'STUDY', studyInstanceUid: study.studyInstanceUid },
        { destinationAeTitle: 'A'.repeat(17) },
      ),
    );
    expect(error.code).toBe(DimseErrorCode.INVALID_REQUEST);
    expect(error.message).toMatch(/^destinationAeTitle /);
  });
});
