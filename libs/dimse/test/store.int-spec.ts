import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deleteStudyFromOrthanc,
  generateStudy,
  orthancRest,
  startPeers,
  startRejectingOrthanc,
  type GeneratedStudy,
  type PeerEndpoints,
  testEgressGuard,
  freePort,
  startDcmtk,
  startSilentListener,
} from '@pacslink/testing';
import {
  DimseError,
  DimseErrorCode,
  isTransientDimseError,
  store,
  type DimseConnectionOptions,
  type StoreInstance,
  type StoreOutcome,
} from '../src';
import {
  convertInPlace,
  datasetBytes,
  datasetBytesOf,
  SopClassUid,
  storeInstanceOf,
  TransferSyntaxUid,
  writeBigCopy,
} from './support/store-fixtures';

// C-STORE SCU against real peers: the shared Orthanc and storescp, and DCMTK storescp / a second
// Orthanc started here for an Implicit-only peer, a refusing peer, a failure status and a big file.
jest.setTimeout(120_000);

const TIMEOUTS = {
  connectTimeoutMs: 5_000,
  associationTimeoutMs: 5_000,
  pduTimeoutMs: 20_000,
  egress: testEgressGuard(),
};

let peers: PeerEndpoints;
let workDir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-dimse-store-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function target(peer: {
  host: string;
  port: number;
  aet?: string;
  aeTitle?: string;
}): DimseConnectionOptions {
  return {
    host: peer.host,
    port: peer.port,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: peer.aet ?? peer.aeTitle ?? 'ANY',
    ...TIMEOUTS,
  };
}

function local(port: number, aeTitle = 'STORESCP'): DimseConnectionOptions {
  return { host: '127.0.0.1', port, callingAeTitle: 'PACSLINK', calledAeTitle: aeTitle, ...TIMEOUTS };
}

function instancesOf(study: GeneratedStudy): StoreInstance[] {
  return study.series.flatMap((series) => series.instances.map((instance) => storeInstanceOf(instance)));
}

async function storeError(promise: Promise<unknown>): Promise<DimseError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError, got ${String(error)}`);
  return error;
}

async function orthancInstanceFile(
  orthanc: PeerEndpoints['orthanc'],
  sopInstanceUid: string,
): Promise<Buffer> {
  const [id] = (await orthancRest(orthanc, 'POST', '/tools/find', {
    Level: 'Instance',
    Query: { SOPInstanceUID: sopInstanceUid },
  })) as string[];
  if (id === undefined) throw new Error(`Orthanc has no instance ${sopInstanceUid}`);
  const response = await fetch(new URL(`/instances/${id}/file`, orthanc.httpUrl), {
    headers: {
      authorization: `Basic ${Buffer.from(`${orthanc.user}:${orthanc.password}`).toString('base64')}`,
    },
  });
  if (!response.ok) throw new Error(`Orthanc /instances/${id}/file: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

describe('store into Orthanc', () => {
  let study: GeneratedStudy;

  beforeAll(async () => {
    study = await generateStudy(workDir, {
      series: 2,
      instancesPerSeries: 3,
      patient: { charset: 'ISO_IR 192' },
    });
    cleanups.push(() => deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid));
  });

  it('stores every instance with the same data set bytes, and names in UTF-8 intact', async () => {
    const seen: StoreOutcome[] = [];
    const instances = instancesOf(study);
    const outcomes = await store(target(peers.orthanc), instances, {
      onOutcome: (outcome) => seen.push(outcome),
    });

    expect(outcomes).toEqual(
      instances.map((instance) => ({
        sopInstanceUid: instance.sopInstanceUid,
        status: 'success',
        statusCode: 0,
      })),
    );
    expect(seen).toEqual(outcomes);
    for (const instance of instances) {
      const stored = datasetBytes(await orthancInstanceFile(peers.orthanc, instance.sopInstanceUid));
      expect(stored.equals(await datasetBytesOf(instance.path))).toBe(true);
    }
    const [studyId] = (await orthancRest(peers.orthanc, 'POST', '/tools/find', {
      Level: 'Study',
      Query: { StudyInstanceUID: study.studyInstanceUid },
    })) as string[];
    const tags = (await orthancRest(peers.orthanc, 'GET', `/studies/${String(studyId)}`)) as {
      PatientMainDicomTags: { PatientName: string };
    };
    expect(tags.PatientMainDicomTags.PatientName.trim()).toBe(study.patient.name);
  });

  it('answers instance-level problems as outcomes, in input order, and sends the rest', async () => {
    const [first, second] = instancesOf(study);
    if (first === undefined || second === undefined) throw new Error('study too small');
    const notDicom = join(workDir, 'not-dicom.dcm');
    await copyFile(join(__dirname, 'store.int-spec.ts'), notDicom);
    const outcomes = await store(target(peers.orthanc), [
      { ...first, path: join(workDir, 'missing.dcm') },
      { ...first, path: notDicom },
      { ...first, sopInstanceUid: '1.2.3.4' },
      { ...first, path: 'relative.dcm' },
      second,
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'failure',
      'failure',
      'failure',
      'failure',
      'success',
    ]);
    expect(outcomes[0]?.reason).toBe(`${join(workDir, 'missing.dcm')}: file not found`);
    expect(outcomes[1]?.reason).toContain('not a DICOM Part 10 file');
    expect(outcomes[2]?.reason).toContain(
      `(0002,0003) MediaStorageSOPInstanceUID is ${first.sopInstanceUid}, not 1.2.3.4`,
    );
    expect(outcomes[3]?.reason).toContain('path must be an absolute file path');
  });
});

describe('mixed SOP classes and transfer syntaxes in one call', () => {
  let instances: StoreInstance[];

  beforeAll(async () => {
    const study = await generateStudy(workDir, {
      series: 1,
      instancesPerSeries: 4,
      patient: { charset: 'ISO_IR 100' },
    });
    cleanups.push(() => deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid));
    const [ct, implicit, secondaryCapture, rle] = study.series[0]?.instances ?? [];
    if (ct === undefined || implicit === undefined || secondaryCapture === undefined || rle === undefined) {
      throw new Error('study too small');
    }
    await convertInPlace(implicit.file, 'implicit');
    await convertInPlace(secondaryCapture.file, 'secondary-capture');
    await convertInPlace(rle.file, 'rle');
    instances = [
      storeInstanceOf(ct),
      storeInstanceOf(implicit, TransferSyntaxUid.ImplicitVRLittleEndian),
      { ...storeInstanceOf(secondaryCapture), sopClassUid: SopClassUid.SecondaryCaptureImageStorage },
      storeInstanceOf(rle, TransferSyntaxUid.RLELossless),
    ];
  });

  it('Orthanc accepts all four, each in its stored syntax, byte for byte', async () => {
    const outcomes = await store(target(peers.orthanc), instances);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['success', 'success', 'success', 'success']);
    for (const instance of instances) {
      const stored = await orthancInstanceFile(peers.orthanc, instance.sopInstanceUid);
      expect(datasetBytes(stored).equals(await datasetBytesOf(instance.path))).toBe(true);
    }
  });

  it('a peer that accepts only Implicit VR Little Endian gets that one; the others fail saying why', async () => {
    const storescp = await startDcmtk('storescp', (port) => ['+xi', '--ignore', String(port)], 'STORESCP');
    cleanups.push(() => storescp.stop());
    const outcomes = await store(local(storescp.port), instances);
    expect(outcomes).toEqual([
      {
        sopInstanceUid: instances[0]?.sopInstanceUid,
        status: 'failure',
        reason:
          'the PACS accepted no presentation context for CT Image Storage in Explicit VR Little Endian (transfer syntaxes not supported)',
      },
      { sopInstanceUid: instances[1]?.sopInstanceUid, status: 'success', statusCode: 0 },
      {
        sopInstanceUid: instances[2]?.sopInstanceUid,
        status: 'failure',
        reason:
          'the PACS accepted no presentation context for Secondary Capture Image Storage in Explicit VR Little Endian (transfer syntaxes not supported)',
      },
      {
        sopInstanceUid: instances[3]?.sopInstanceUid,
        status: 'failure',
        reason:
          'the PACS accepted no presentation context for CT Image Storage in RLE Lossless (transfer syntaxes not supported)',
      },
    ]);
  });
});

it('stores into the shared storescp: the files appear with the same data set', async () => {
  const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 3 });
  const instances = instancesOf(study);
  const outcomes = await store(target(peers.storescp), instances);
  expect(outcomes.every((outcome) => outcome.status === 'success')).toBe(true);
  for (const instance of instances) {
    const received = join(peers.storescp.dir, `CT.${instance.sopInstanceUid}`);
    expect((await datasetBytesOf(received)).equals(await datasetBytesOf(instance.path))).toBe(true);
    cleanups.push(() => rm(received, { force: true }));
  }
});

it('a failure status from the PACS is that instance’s outcome; the others are stored', async () => {
  const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 3 });
  const instances = instancesOf(study);
  const refused = instances[1]?.sopInstanceUid;
  const orthanc = await startRejectingOrthanc({ rejectSopInstanceUids: [refused] });
  cleanups.push(() => orthanc.stop());
  const outcomes = await store(target(orthanc), instances);
  expect(outcomes.map((outcome) => outcome.status)).toEqual(['success', 'failure', 'success']);
  expect(outcomes[1]).toEqual({
    sopInstanceUid: refused,
    status: 'failure',
    statusCode: 0xa700,
    reason: '0xA700 (refused: out of resources)',
  });
});

describe('association-level failures reject with a DimseError', () => {
  const one = (): StoreInstance[] => [
    {
      path: '/nonexistent.dcm',
      sopClassUid: SopClassUid.CTImageStorage,
      sopInstanceUid: '1.2.3',
      transferSyntaxUid: TransferSyntaxUid.ExplicitVRLittleEndian,
    },
  ];

  it('a PACS that is down: CONNECTION_REFUSED, transient', async () => {
    const port = await freePort();
    const error = await storeError(store(local(port), one()));
    expect(error.code).toBe(DimseErrorCode.CONNECTION_REFUSED);
    expect(error.message).toBe(`connection refused by 127.0.0.1:${port} — nothing listens there`);
    expect(isTransientDimseError(error)).toBe(true);
  });

  it('a refused association: ASSOCIATION_REJECTED with the reject reasons', async () => {
    const storescp = await startDcmtk('storescp', (port) => ['--refuse', String(port)], 'STORESCP');
    cleanups.push(() => storescp.stop());
    const error = await storeError(store(local(storescp.port), one()));
    expect(error.code).toBe(DimseErrorCode.ASSOCIATION_REJECTED);
    expect(error.message).toMatch(/^association rejected permanently by the called AE \(service user\)/);
    expect(isTransientDimseError(error)).toBe(false);
  });

  it('a listener that never answers: TIMEOUT in the association phase', async () => {
    const silent = await startSilentListener();
    cleanups.push(() => silent.close());
    const error = await storeError(store({ ...local(silent.port), associationTimeoutMs: 500 }, one()));
    expect(error.code).toBe(DimseErrorCode.TIMEOUT);
    expect(error.details.phase).toBe('association');
    expect(isTransientDimseError(error)).toBe(true);
  });

  it("Orthanc's HTTP port: PROTOCOL_ERROR naming it", async () => {
    const url = new URL(peers.orthanc.httpUrl);
    const error = await storeError(store(local(Number(url.port)), one()));
    expect(error.code).toBe(DimseErrorCode.PROTOCOL_ERROR);
    expect(error.message).toContain('answered like an HTTP server');
  });

  it('bad options: INVALID_REQUEST before any connection', async () => {
    const error = await storeError(store({ ...local(104), calledAeTitle: '' }, one()));
    expect(error.code).toBe(DimseErrorCode.INVALID_REQUEST);
  });
});

it('an abort signal stops after the instance in flight, releases, and rejects with CANCELLED', async () => {
  const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 8 });
  cleanups.push(() => deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid));
  const controller = new AbortController();
  const seen: StoreOutcome[] = [];
  const error = await storeError(
    store(target(peers.orthanc), instancesOf(study), {
      signal: controller.signal,
      onOutcome: (outcome) => {
        seen.push(outcome);
        if (seen.length === 3) controller.abort();
      },
    }),
  );
  expect(error.code).toBe(DimseErrorCode.CANCELLED);
  expect(error.message).toBe(
    'C-STORE cancelled: stopped after 3 of 8 instances; the association was released',
  );
  expect(isTransientDimseError(error)).toBe(false);
  expect(seen.map((outcome) => outcome.status)).toEqual(['success', 'success', 'success']);
  const instances = (await orthancRest(peers.orthanc, 'POST', '/tools/find', {
    Level: 'Instance',
    Query: { StudyInstanceUID: study.studyInstanceUid },
  })) as string[];
  expect(instances).toHaveLength(3);
});

it('streams a 200 MB file: memory stays flat', async () => {
  const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 1 });
  const [small] = instancesOf(study);
  if (small === undefined) throw new Error('no instance');
  const big = join(workDir, 'big.dcm');
  const bytes = await writeBigCopy(small.path, big, 10_000);
  expect(bytes).toBeGreaterThan(200_000_000);
  const storescp = await startDcmtk(
    'storescp',
    (port) => ['--ignore', '--max-pdu', '131072', String(port)],
    'STORESCP',
  );
  cleanups.push(() => storescp.stop());

  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakArrayBuffers = before.arrayBuffers;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers);
  }, 5);
  try {
    const outcomes = await store(local(storescp.port), [{ ...small, path: big }]);
    expect(outcomes).toEqual([{ sopInstanceUid: small.sopInstanceUid, status: 'success', statusCode: 0 }]);
  } finally {
    clearInterval(sampler);
  }
  // Holding the file would add 200 MB to both; streaming holds a few 256 KB chunks.
  expect(peakArrayBuffers - before.arrayBuffers).toBeLessThan(16 * 1024 * 1024);
  expect(peakRss - before.rss).toBeLessThan(64 * 1024 * 1024);
});
