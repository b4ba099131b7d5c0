import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  deleteStudyFromOrthanc,
  generateStudy,
  runDcmtk,
  startPeers,
  testEgressGuard,
  type GeneratedInstance,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import { STORABLE_TRANSFER_SYNTAXES, StudyStore, type StoredInstance } from '@pacslink/store';
import {
  DicomwebClient,
  DicomwebErrorCode,
  type DicomwebEndpoint,
  type DicomwebLogEntry,
  type InstanceSink,
  type RetrieveOutcome,
} from '../src';
import { closeServer, listenLocal } from './local-servers';

// WADO-RS retrieve from a real Orthanc (1.10.1, DICOMweb plugin 1.7, HTTP Basic) into a real
// StudyStore; studies go in with DCMTK storescu. A local HTTP server plays the PACS that stops
// half-way. Bytes are compared with the files the test generated.
jest.setTimeout(240_000);

const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

let peers: PeerEndpoints;
let workDir: string;
let study: GeneratedStudy;
let endpoint: DicomwebEndpoint;
const generated: GeneratedStudy[] = [];
const client = new DicomwebClient({ egress: testEgressGuard() });

async function storeInOrthanc(files: readonly string[]): Promise<void> {
  const { aet, host, port } = peers.orthanc;
  await runDcmtk('storescu', ['-aet', 'STORESCU', '-aec', aet, host, String(port), ...files]);
}

function instancesOf(generatedStudy: GeneratedStudy): GeneratedInstance[] {
  return generatedStudy.series.flatMap((series) => series.instances);
}

/** A StudyStore in a fresh directory, and a sink writing into it that records what it stored. */
async function storeAndSink(): Promise<{ store: StudyStore; stored: StoredInstance[]; sink: InstanceSink }> {
  const store = new StudyStore(await mkdtemp(join(workDir, 'store-')));
  const stored: StoredInstance[] = [];
  const sink: InstanceSink = async (part) => {
    const instance = await store.write(part);
    stored.push(instance);
    return { sopInstanceUid: instance.sopInstanceUid };
  };
  return { store, stored, sink };
}

/** A full garbage collection (V8's gc, exposed at run time): what remains is what is held. */
const collectGarbage = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * The data set of a Part 10 file: what follows the File Meta group, whose length (0002,0000) is the
 * first element after the preamble and "DICM" (PS3.10 7.1). The meta differs by design: storescu
 * sends the data set only, and Orthanc writes its own meta (DCMTK's implementation class UID).
 */
function datasetOf(file: Buffer): Buffer {
  expect(file.toString('latin1', 128, 132)).toBe('DICM');
  expect(file.toString('latin1', 136, 138)).toBe('UL');
  return file.subarray(144 + file.readUInt32LE(140));
}

async function expectStoredAsGenerated(
  store: StudyStore,
  stored: readonly StoredInstance[],
  instances: readonly GeneratedInstance[],
): Promise<void> {
  expect(stored.map((one) => one.sopInstanceUid).sort()).toEqual(
    instances.map((one) => one.sopInstanceUid).sort(),
  );
  for (const instance of instances) {
    const path = stored.find((one) => one.sopInstanceUid === instance.sopInstanceUid)?.path as string;
    const [retrieved, original] = await Promise.all([
      readFile(store.absolutePath(path)),
      readFile(instance.file),
    ]);
    expect(datasetOf(retrieved).equals(datasetOf(original))).toBe(true);
  }
}

function loggingClient(): { logging: DicomwebClient; paths: string[] } {
  const paths: string[] = [];
  const record = (entry: DicomwebLogEntry) => {
    if (entry.msg === 'DICOMweb answer' && typeof entry.path === 'string') paths.push(entry.path);
  };
  return {
    logging: new DicomwebClient({ egress: testEgressGuard(), logger: { debug: record, warn: record } }),
    paths,
  };
}

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-wado-'));
  study = await generateStudy(workDir, { series: 2, instancesPerSeries: 3 });
  generated.push(study);
  await storeInOrthanc(study.files);
  endpoint = {
    url: peers.orthanc.dicomWebUrl,
    auth: { method: 'basic', username: peers.orthanc.user, password: peers.orthanc.password },
    sourceAeTitle: 'PACSLINK',
    pacsAeTitle: peers.orthanc.aet,
    timeoutMs: 30_000,
  };
});

afterAll(async () => {
  await client.close();
  for (const one of generated) await deleteStudyFromOrthanc(peers.orthanc, one.studyInstanceUid);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('from Orthanc', () => {
  it('retrieves a whole study series by series into the store, byte for byte', async () => {
    const { store, stored, sink } = await storeAndSink();
    const { logging, paths } = loggingClient();
    const progress: RetrieveOutcome[] = [];
    try {
      const result = await logging.retrieve(
        endpoint,
        {
          studyInstanceUid: study.studyInstanceUid,
          acceptTransferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
          onInstance: (outcome) => progress.push(outcome),
        },
        sink,
      );
      expect(result.plan.total).toBe(6);
      expect(result.plan.series.map((series) => series.sopInstanceUids.sort())).toEqual(
        expect.arrayContaining(
          study.series.map((series) => series.instances.map((one) => one.sopInstanceUid).sort()),
        ),
      );
      expect(result.outcomes).toHaveLength(6);
      expect(result.outcomes.every((outcome) => outcome.status === 'stored')).toBe(true);
      expect(progress).toEqual(result.outcomes);
    } finally {
      await logging.close();
    }
    await expectStoredAsGenerated(store, stored, instancesOf(study));
    // one WADO-RS request per series, after the QIDO-RS ones
    const wado = paths.filter((path) => !/\/(studies|series|instances)$/.test(path));
    expect(wado.sort()).toEqual(
      study.series
        .map((series) => `/dicom-web/studies/${study.studyInstanceUid}/series/${series.seriesInstanceUid}`)
        .sort(),
    );
  });

  it('asks with every syntax the store keeps (the Accept of the worker) and gets the data sets unchanged', async () => {
    const { store, stored, sink } = await storeAndSink();
    const [first] = study.series;
    await client.retrieve(
      endpoint,
      {
        studyInstanceUid: study.studyInstanceUid,
        seriesInstanceUid: first.seriesInstanceUid,
        acceptTransferSyntaxes: STORABLE_TRANSFER_SYNTAXES,
      },
      sink,
    );
    await expectStoredAsGenerated(store, stored, first.instances);
  });

  it('retrieves one series only', async () => {
    const { store, stored, sink } = await storeAndSink();
    const [, second] = study.series;
    const result = await client.retrieve(
      endpoint,
      {
        studyInstanceUid: study.studyInstanceUid,
        seriesInstanceUid: second.seriesInstanceUid,
        acceptTransferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
      },
      sink,
    );
    expect(result.plan.total).toBe(3);
    expect(result.outcomes.map((outcome) => outcome.seriesInstanceUid)).toEqual(
      Array(3).fill(second.seriesInstanceUid),
    );
    await expectStoredAsGenerated(store, stored, second.instances);
  });

  it('resumes: held instances are not fetched, the others one request each', async () => {
    const { store, stored, sink } = await storeAndSink();
    const [first, second] = study.series;
    const held = new Set(
      [...first.instances.slice(0, 2), ...second.instances].map((one) => one.sopInstanceUid),
    );
    const { logging, paths } = loggingClient();
    let result;
    try {
      result = await logging.retrieve(
        endpoint,
        {
          studyInstanceUid: study.studyInstanceUid,
          acceptTransferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
          has: (uid) => Promise.resolve(held.has(uid)),
        },
        sink,
      );
    } finally {
      await logging.close();
    }
    const missing = first.instances[2];
    expect(result.outcomes.filter((outcome) => outcome.status === 'held')).toHaveLength(5);
    expect(result.outcomes.filter((outcome) => outcome.status === 'stored')).toEqual([
      {
        sopInstanceUid: missing.sopInstanceUid,
        seriesInstanceUid: first.seriesInstanceUid,
        status: 'stored',
      },
    ]);
    await expectStoredAsGenerated(store, stored, [missing]);
    expect(paths.filter((path) => path.includes('/instances/'))).toEqual([
      `/dicom-web/studies/${study.studyInstanceUid}/series/${first.seriesInstanceUid}/instances/${missing.sopInstanceUid}`,
    ]);
  });

  it('says the password is wrong', async () => {
    const { sink } = await storeAndSink();
    const wrong: DicomwebEndpoint = {
      ...endpoint,
      auth: { method: 'basic', username: peers.orthanc.user, password: 'wrong' },
    };
    await expect(
      client.retrieve(wrong, { studyInstanceUid: study.studyInstanceUid, acceptTransferSyntaxes: [] }, sink),
    ).rejects.toMatchObject({ code: DicomwebErrorCode.AuthenticationRejected, httpStatus: 401 });
  });

  it('says a study or series the server does not hold is not found', async () => {
    const { sink } = await storeAndSink();
    await expect(
      client.retrieve(endpoint, { studyInstanceUid: '1.2.3.4.5.6.7.999', acceptTransferSyntaxes: [] }, sink),
    ).rejects.toMatchObject({
      code: DicomwebErrorCode.StudyNotFound,
      message: 'the server holds no study 1.2.3.4.5.6.7.999 (QIDO-RS finds none)',
    });
    await expect(
      client.retrieve(
        endpoint,
        {
          studyInstanceUid: study.studyInstanceUid,
          seriesInstanceUid: '1.2.3.999',
          acceptTransferSyntaxes: [],
        },
        sink,
      ),
    ).rejects.toMatchObject({ code: DicomwebErrorCode.StudyNotFound });
  });

  it('holds a 50 MB instance to a bounded memory while the sink is slow', async () => {
    const big = await generateStudy(workDir, { series: 1, instancesPerSeries: 1, instanceBytes: 50_000_000 });
    generated.push(big);
    await storeInOrthanc(big.files);
    const [instance] = instancesOf(big);
    const { store, stored, sink } = await storeAndSink();
    // A disk that stalls for 3 s once 1 MB has gone through: while it does, the body must wait in
    // the server and the socket, not pile up here. What is held is measured after a full garbage
    // collection before and at the end of the stall, when a body read on regardless would be here
    // whole.
    collectGarbage();
    const before = process.memoryUsage();
    let atStall: NodeJS.MemoryUsage | undefined;
    let passed = 0;
    const slowSink: InstanceSink = (part, facts) =>
      sink(
        part.pipe(
          new Transform({
            transform(chunk: Buffer, _encoding, done) {
              const stall = passed < 1024 * 1024 && passed + chunk.length >= 1024 * 1024;
              passed += chunk.length;
              if (!stall) return done(null, chunk);
              setTimeout(() => {
                collectGarbage();
                atStall = process.memoryUsage();
                done(null, chunk);
              }, 3000);
            },
          }),
        ),
        facts,
      );
    await client.retrieve(
      endpoint,
      { studyInstanceUid: big.studyInstanceUid, acceptTransferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] },
      slowSink,
    );
    await expectStoredAsGenerated(store, stored, [instance]);
    const growth =
      (atStall as NodeJS.MemoryUsage).heapUsed +
      (atStall as NodeJS.MemoryUsage).arrayBuffers -
      (before.heapUsed + before.arrayBuffers);
    // Measured: +0.7 MB; without the part's back-pressure, +50 MB (the whole body).
    expect(growth).toBeLessThan(instance.bytes / 10);
  });
});

describe('from a server that misbehaves', () => {
  const BOUNDARY = 'wado-test-boundary';
  type Mode = 'cut' | 'json-part' | 'silent';
  let mode: Mode;
  let port: number;
  let parts: Buffer[];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const json = (datasets: object[]) => {
      response.writeHead(200, { 'content-type': 'application/dicom+json' });
      response.end(JSON.stringify(datasets));
    };
    const uid = (tag: string, value: string) => ({ [tag]: { vr: 'UI', Value: [value] } });
    const [series] = study.series;
    if (path.endsWith('/studies')) return json([uid('0020000D', study.studyInstanceUid)]);
    if (path.endsWith('/series')) return json([uid('0020000E', series.seriesInstanceUid)]);
    if (path.endsWith('/instances')) {
      return json(series.instances.map((one) => uid('00080018', one.sopInstanceUid)));
    }
    response.writeHead(200, {
      'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`,
    });
    const partHead = (type: string) => Buffer.from(`--${BOUNDARY}\r\nContent-Type: ${type}\r\n\r\n`);
    if (mode === 'json-part') {
      response.write(Buffer.concat([partHead('application/dicom'), parts[0], Buffer.from('\r\n')]));
      response.end(
        Buffer.concat([
          partHead('application/dicom+json'),
          Buffer.from('{}\r\n'),
          Buffer.from(`--${BOUNDARY}--`),
        ]),
      );
      return;
    }
    if (mode === 'silent') {
      // One part whole, a few bytes of the next, then nothing while the connection stays open.
      response.write(Buffer.concat([partHead('application/dicom'), parts[0], Buffer.from('\r\n')]));
      response.write(Buffer.concat([partHead('application/dicom'), parts[1].subarray(0, 1000)]));
      return;
    }
    // Two parts whole, then half of the third, then the connection goes.
    response.write(Buffer.concat([partHead('application/dicom'), parts[0], Buffer.from('\r\n')]));
    response.write(Buffer.concat([partHead('application/dicom'), parts[1], Buffer.from('\r\n')]));
    response.write(Buffer.concat([partHead('application/dicom'), parts[2].subarray(0, parts[2].length / 2)]));
    setTimeout(() => response.socket?.destroy(), 50);
  });

  beforeAll(async () => {
    port = await listenLocal(server);
    parts = await Promise.all(study.series[0].instances.map((one) => readFile(one.file)));
  });

  afterAll(() => closeServer(server));

  const local = (): DicomwebEndpoint => ({ ...endpoint, url: `http://127.0.0.1:${port}/dicom-web` });

  it('stops half-way: a typed error, the instances before it stored, nothing half-stored', async () => {
    mode = 'cut';
    const { store, stored, sink } = await storeAndSink();
    const progress: RetrieveOutcome[] = [];
    const error = await client
      .retrieve(
        local(),
        {
          studyInstanceUid: study.studyInstanceUid,
          acceptTransferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
          onInstance: (outcome) => progress.push(outcome),
        },
        sink,
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: DicomwebErrorCode.ResponseTruncated });
    expect((error as Error).message).toMatch(
      /closed the connection half-way \(3 parts into the answer for series .*, in the middle of a part\)/,
    );
    const [first, second] = study.series[0].instances;
    expect(progress.map((outcome) => outcome.sopInstanceUid)).toEqual([
      first.sopInstanceUid,
      second.sopInstanceUid,
    ]);
    await expectStoredAsGenerated(store, stored, [first, second]);
    expect(await readdir(join(store.rootDir, 'tmp'))).toEqual([]);
  });

  it('gives up on a body that goes silent after timeoutMs, with nothing half-stored', async () => {
    mode = 'silent';
    const { store, stored, sink } = await storeAndSink();
    const started = performance.now();
    const error = await client
      .retrieve(
        { ...local(), timeoutMs: 1000 },
        { studyInstanceUid: study.studyInstanceUid, acceptTransferSyntaxes: [] },
        sink,
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: DicomwebErrorCode.ResponseTimeout });
    expect((error as Error).message).toMatch(/stopped sending its answer for 1000 ms/);
    expect(performance.now() - started).toBeLessThan(5000);
    await expectStoredAsGenerated(store, stored, [study.series[0].instances[0]]);
    expect(await readdir(join(store.rootDir, 'tmp'))).toEqual([]);
  });

  it('refuses a part that is not application/dicom', async () => {
    mode = 'json-part';
    const { sink } = await storeAndSink();
    const error = await client
      .retrieve(local(), { studyInstanceUid: study.studyInstanceUid, acceptTransferSyntaxes: [] }, sink)
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: DicomwebErrorCode.MalformedMultipart });
    expect((error as Error).message).toMatch(
      /part 2 of the WADO-RS answer for series .* is application\/dicom\+json, not application\/dicom/,
    );
  });
});
