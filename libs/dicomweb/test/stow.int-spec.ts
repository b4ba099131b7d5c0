import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deleteStudyFromOrthanc,
  generateStudy,
  orthancRest,
  startPeers,
  testEgressGuard,
  startRejectingOrthanc,
  type GeneratedInstance,
  type GeneratedStudy,
  type OrthancPeer,
  type PeerEndpoints,
  type RejectingOrthanc,
} from '@pacslink/testing';
import {
  DicomwebClient,
  DicomwebErrorCode,
  NOT_MENTIONED,
  type DicomwebEndpoint,
  type DicomwebLogEntry,
  type StowInstance,
  type StowOutcome,
} from '../src';
import { refusedPort } from './local-servers';
import { startOAuth2StowGate } from './oauth2-stow-gate';
import { startSinglePartStowAdapter, type SinglePartStowAdapter } from './single-part-stow-adapter';

// STOW-RS against real Orthancs (1.10.1, DICOMweb plugin 1.7): the shared test peer with HTTP
// Basic, and one of this file's own that refuses chosen SOP instances. What arrived is checked
// through Orthanc's REST API, byte for byte.
jest.setTimeout(180_000);

type Orthanc = Pick<OrthancPeer, 'httpUrl' | 'user' | 'password'>;

let peers: PeerEndpoints;
let workDir: string;
const client = new DicomwebClient({ egress: testEgressGuard() });
const studies: Array<{ orthanc: Orthanc; study: GeneratedStudy }> = [];

function endpointOf(orthanc: Orthanc & { dicomWebUrl: string }, timeoutMs = 30_000): DicomwebEndpoint {
  return {
    url: orthanc.dicomWebUrl,
    auth: { method: 'basic', username: orthanc.user, password: orthanc.password },
    sourceAeTitle: 'PACSLINK',
    pacsAeTitle: 'ORTHANC',
    timeoutMs,
  };
}

function instancesOf(study: GeneratedStudy): GeneratedInstance[] {
  return study.series.flatMap((series) => series.instances);
}

function toStow(instance: GeneratedInstance): StowInstance {
  return {
    path: instance.file,
    sopInstanceUid: instance.sopInstanceUid,
    sopClassUid: instance.sopClassUid,
    sizeBytes: instance.bytes,
  };
}

async function generate(orthanc: Orthanc, options: Parameters<typeof generateStudy>[1]) {
  const study = await generateStudy(workDir, options);
  studies.push({ orthanc, study });
  return study;
}

async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function basic(orthanc: Orthanc): string {
  return `Basic ${Buffer.from(`${orthanc.user}:${orthanc.password}`).toString('base64')}`;
}

/** Orthanc's id of an instance, or undefined when it holds none with that SOP Instance UID. */
async function orthancInstanceId(orthanc: Orthanc, sopInstanceUid: string): Promise<string | undefined> {
  const ids = (await orthancRest(orthanc, 'POST', '/tools/find', {
    Level: 'Instance',
    Query: { SOPInstanceUID: sopInstanceUid },
  })) as string[];
  return ids[0];
}

async function md5OfStored(orthanc: Orthanc, id: string): Promise<string> {
  const response = await fetch(new URL(`/instances/${id}/file`, orthanc.httpUrl), {
    headers: { authorization: basic(orthanc) },
  });
  expect(response.status).toBe(200);
  return createHash('md5')
    .update(Buffer.from(await response.arrayBuffer()))
    .digest('hex');
}

/** Every instance is in Orthanc, byte-identical to its source file. */
async function expectStoredIdentically(orthanc: Orthanc, instances: readonly GeneratedInstance[]) {
  for (const instance of instances) {
    const id = await orthancInstanceId(orthanc, instance.sopInstanceUid);
    expect({ uid: instance.sopInstanceUid, stored: id !== undefined }).toEqual({
      uid: instance.sopInstanceUid,
      stored: true,
    });
    expect(await md5OfStored(orthanc, id as string)).toBe(await md5OfFile(instance.file));
  }
}

/** A client of its own that records each STOW-RS request's log entry: how the batches were cut. */
function recordingClient(): { logging: DicomwebClient; requests: DicomwebLogEntry[] } {
  const requests: DicomwebLogEntry[] = [];
  const logging = new DicomwebClient({
    egress: testEgressGuard(),
    logger: {
      debug: (entry) => {
        if (entry.msg === 'STOW-RS request answered') requests.push(entry);
      },
      warn: () => undefined,
    },
  });
  return { logging, requests };
}

const success = (instance: GeneratedInstance): StowOutcome => ({
  sopInstanceUid: instance.sopInstanceUid,
  status: 'success',
});

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-stow-'));
});

afterAll(async () => {
  await client.close();
  for (const { orthanc, study } of studies) {
    await deleteStudyFromOrthanc(orthanc, study.studyInstanceUid).catch(() => undefined);
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('multipart/related to the shared Orthanc (HTTP Basic)', () => {
  it('stores 25 instances with a Cyrillic patient name in 3 requests of at most 10, byte for byte', async () => {
    const study = await generate(peers.orthanc, {
      series: 5,
      instancesPerSeries: 5,
      patient: { name: 'Петров^Иван', charset: 'ISO_IR 144' },
    });
    const instances = instancesOf(study);
    const { logging, requests } = recordingClient();
    const progress: StowOutcome[] = [];
    try {
      const outcomes = await logging.stow(endpointOf(peers.orthanc), instances.map(toStow), {
        multipart: true,
        maxInstancesPerRequest: 10,
        onOutcome: (outcome) => progress.push(outcome),
      });
      expect(outcomes).toEqual(instances.map(success));
    } finally {
      await logging.close();
    }
    expect(progress).toEqual(instances.map(success));
    expect(requests.map((entry) => [entry.status, entry.instances])).toEqual([
      [200, 10],
      [200, 10],
      [200, 5],
    ]);
    await expectStoredIdentically(peers.orthanc, instances);
    const id = await orthancInstanceId(peers.orthanc, instances[0].sopInstanceUid);
    const tags = (await orthancRest(peers.orthanc, 'GET', `/instances/${id}/simplified-tags`)) as Record<
      string,
      string
    >;
    expect(tags.PatientName.trim()).toBe('Петров^Иван');
  });

  it('batches by bytes too: an instance larger than maxBytesPerRequest goes alone', async () => {
    const study = await generate(peers.orthanc, { series: 1, instancesPerSeries: 3, instanceBytes: 20_000 });
    const instances = instancesOf(study);
    const { logging, requests } = recordingClient();
    try {
      const outcomes = await logging.stow(endpointOf(peers.orthanc), instances.map(toStow), {
        multipart: true,
        maxBytesPerRequest: 15_000,
      });
      expect(outcomes).toEqual(instances.map(success));
    } finally {
      await logging.close();
    }
    expect(requests.map((entry) => entry.instances)).toEqual([1, 1, 1]);
    await expectStoredIdentically(peers.orthanc, instances);
  });

  it('POSTs to /studies/{uid} when given the study, and Orthanc fails an instance of another study (0x0110)', async () => {
    const study = await generate(peers.orthanc, { series: 1, instancesPerSeries: 2 });
    const stranger = await generate(peers.orthanc, { series: 1, instancesPerSeries: 1 });
    const [outsider] = instancesOf(stranger);
    const outcomes = await client.stow(
      endpointOf(peers.orthanc),
      [...instancesOf(study), outsider].map(toStow),
      { multipart: true, studyInstanceUid: study.studyInstanceUid },
    );
    expect(outcomes).toEqual([
      ...instancesOf(study).map(success),
      { sopInstanceUid: outsider.sopInstanceUid, status: 'failure', reason: '0x0110 processing failure' },
    ]);
    expect(await orthancInstanceId(peers.orthanc, outsider.sopInstanceUid)).toBeUndefined();
  });

  it('a missing file fails that instance alone, without a request for it', async () => {
    const study = await generate(peers.orthanc, { series: 1, instancesPerSeries: 2 });
    const [present, gone] = instancesOf(study);
    const outcomes = await client.stow(
      endpointOf(peers.orthanc),
      [toStow(present), { ...toStow(gone), path: join(workDir, 'no-such-file.dcm') }],
      { multipart: true },
    );
    expect(outcomes).toEqual([
      success(present),
      {
        sopInstanceUid: gone.sopInstanceUid,
        status: 'failure',
        reason: 'the file to send cannot be read (ENOENT)',
      },
    ]);
  });
});

describe('single application/dicom bodies', () => {
  let adapter: SinglePartStowAdapter;

  beforeAll(async () => {
    adapter = await startSinglePartStowAdapter(peers.orthanc.dicomWebUrl);
  });

  afterAll(async () => {
    await adapter?.close();
  });

  it('Orthanc 1.10 refuses them (415): a permanent error that says to switch multipart on', async () => {
    const study = await generate(peers.orthanc, { series: 1, instancesPerSeries: 1 });
    const error = await client
      .stow(endpointOf(peers.orthanc), instancesOf(study).map(toStow), { multipart: false })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: DicomwebErrorCode.RequestRejected,
      httpStatus: 415,
      message:
        "the server does not take single application/dicom bodies (HTTP 415 Unsupported Media Type) — switch on stowMultipartRelated (Orthanc's DICOMweb plugin needs it)",
      disposition: { retryable: false },
    });
  });

  it('one POST per instance, each stored byte for byte (through an adapter that accepts them)', async () => {
    const study = await generate(peers.orthanc, {
      series: 1,
      instancesPerSeries: 3,
      patient: { name: 'Müller^Jürgen', charset: 'ISO_IR 100' },
    });
    const instances = instancesOf(study);
    adapter.contentTypes.length = 0;
    const outcomes = await client.stow(
      { ...endpointOf(peers.orthanc), url: adapter.url },
      instances.map(toStow),
      { multipart: false, maxInstancesPerRequest: 10 },
    );
    expect(outcomes).toEqual(instances.map(success));
    expect(adapter.contentTypes).toEqual(['application/dicom', 'application/dicom', 'application/dicom']);
    await expectStoredIdentically(peers.orthanc, instances);
  });
});

describe('request-level failures', () => {
  it('OAuth2: a 401 to the cached token gets a new token and the files are read again for the retry', async () => {
    const study = await generate(peers.orthanc, { series: 1, instancesPerSeries: 3 });
    const [warmUp, ...instances] = instancesOf(study);
    const gate = await startOAuth2StowGate(peers.orthanc);
    const oauth2 = new DicomwebClient({ egress: testEgressGuard() });
    try {
      const endpoint: DicomwebEndpoint = {
        ...endpointOf(peers.orthanc),
        url: gate.url,
        auth: {
          method: 'oauth2-client-credentials',
          tokenUrl: gate.tokenUrl,
          clientId: 'pacslink',
          clientSecret: 'gate-secret',
        },
      };
      expect(await oauth2.stow(endpoint, [toStow(warmUp)], { multipart: true })).toEqual([success(warmUp)]);
      gate.revoked.add('gate-token-1');

      const outcomes = await oauth2.stow(endpoint, instances.map(toStow), { multipart: true });

      expect(outcomes).toEqual(instances.map(success));
      expect(gate.issued).toEqual(['gate-token-1', 'gate-token-2']);
      const [, refused, retried] = gate.bodies;
      expect(refused).toMatchObject({ token: 'gate-token-1', status: 401 });
      expect(retried).toMatchObject({ token: 'gate-token-2', status: 200, bytes: refused.bytes });
      expect(retried.bytes).toBeGreaterThan(instances[0].bytes + instances[1].bytes);
      await expectStoredIdentically(peers.orthanc, instances);
    } finally {
      await oauth2.close();
      await gate.close();
    }
  });

  it('a wrong password: permanent, AUTHENTICATION_REJECTED (401)', async () => {
    const study = await generate(peers.orthanc, { series: 1, instancesPerSeries: 1 });
    const endpoint = endpointOf(peers.orthanc);
    const error = await client
      .stow(
        { ...endpoint, auth: { method: 'basic', username: peers.orthanc.user, password: 'wrong-password' } },
        instancesOf(study).map(toStow),
        { multipart: true },
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: DicomwebErrorCode.AuthenticationRejected,
      httpStatus: 401,
      disposition: { area: 'auth', retryable: false },
    });
    expect((error as Error).message).not.toContain('wrong-password');
  });

  it('a server that is down: transient, CONNECTION_REFUSED', async () => {
    const study = await generate(peers.orthanc, { series: 1, instancesPerSeries: 1 });
    const port = await refusedPort();
    const error = await client
      .stow(
        { ...endpointOf(peers.orthanc), url: `http://127.0.0.1:${port}/dicom-web` },
        instancesOf(study).map(toStow),
        {
          multipart: true,
        },
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: DicomwebErrorCode.ConnectionRefused,
      disposition: { retryable: true },
    });
  });

  it('cancelled: the request in flight finishes, its outcomes stand, then ABORTED', async () => {
    const study = await generate(peers.orthanc, { series: 1, instancesPerSeries: 4 });
    const instances = instancesOf(study);
    const controller = new AbortController();
    const delivered: StowOutcome[] = [];
    const error = await client
      .stow(endpointOf(peers.orthanc), instances.map(toStow), {
        multipart: true,
        maxInstancesPerRequest: 2,
        signal: controller.signal,
        onOutcome: (outcome) => {
          delivered.push(outcome);
          controller.abort();
        },
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: DicomwebErrorCode.Aborted,
      message: 'the STOW-RS export was cancelled after 2 of 4 instances',
      disposition: { area: 'cancelled' },
    });
    expect(delivered).toEqual(instances.slice(0, 2).map(success));
    await expectStoredIdentically(peers.orthanc, instances.slice(0, 2));
    expect(await orthancInstanceId(peers.orthanc, instances[2].sopInstanceUid)).toBeUndefined();
  });
});

describe('an Orthanc of its own that refuses one instance', () => {
  let rejecting: RejectingOrthanc;
  let study: GeneratedStudy;
  let refused: GeneratedInstance;

  beforeAll(async () => {
    study = await generateStudy(workDir, {
      series: 2,
      instancesPerSeries: 3,
      patient: { name: 'Петров^Анна', charset: 'ISO_IR 144' },
    });
    // The last of the second request of 2: Orthanc stops reading a request at a refused part.
    refused = instancesOf(study)[3];
    rejecting = await startRejectingOrthanc({ rejectSopInstanceUids: [refused.sopInstanceUid] });
  });

  afterAll(async () => {
    await rejecting?.stop();
  });

  it('that instance fails, the others (in requests of 2) are stored byte for byte', async () => {
    const instances = instancesOf(study);
    const outcomes = await client.stow(endpointOf(rejecting), instances.map(toStow), {
      multipart: true,
      maxInstancesPerRequest: 2,
    });
    expect(outcomes).toEqual(
      instances.map((instance) =>
        instance === refused
          ? { sopInstanceUid: refused.sopInstanceUid, status: 'failure', reason: NOT_MENTIONED }
          : success(instance),
      ),
    );
    expect(await orthancInstanceId(rejecting, refused.sopInstanceUid)).toBeUndefined();
    await expectStoredIdentically(
      rejecting,
      instances.filter((instance) => instance !== refused),
    );
  });

  it('in one request, Orthanc also drops the parts after the refused one: they fail, and truly are not stored', async () => {
    const other = await generateStudy(workDir, { series: 1, instancesPerSeries: 3 });
    const instances = instancesOf(other);
    const [first, middle, last] = instances;
    await rejecting.stop();
    rejecting = await startRejectingOrthanc({ rejectSopInstanceUids: [middle.sopInstanceUid] });
    const outcomes = await client.stow(endpointOf(rejecting), instances.map(toStow), { multipart: true });
    expect(outcomes).toEqual([
      success(first),
      { sopInstanceUid: middle.sopInstanceUid, status: 'failure', reason: NOT_MENTIONED },
      { sopInstanceUid: last.sopInstanceUid, status: 'failure', reason: NOT_MENTIONED },
    ]);
    await expectStoredIdentically(rejecting, [first]);
    expect(await orthancInstanceId(rejecting, middle.sopInstanceUid)).toBeUndefined();
    expect(await orthancInstanceId(rejecting, last.sopInstanceUid)).toBeUndefined();
  });

  it('streams a 300 MB body without holding it: RSS grows far less than the body', async () => {
    const big = await generateStudy(workDir, {
      series: 1,
      instancesPerSeries: 10,
      instanceBytes: 30_000_000,
    });
    const instances = instancesOf(big);
    const bodyBytes = instances.reduce((sum, instance) => sum + instance.bytes, 0);
    // RSS alone can hide a held body when the generator's freed buffers are reused; Buffers live
    // outside the JS heap, so the external (arrayBuffers) peak shows any copy of the body.
    const before = process.memoryUsage();
    const peak = { rss: before.rss, arrayBuffers: before.arrayBuffers };
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peak.rss = Math.max(peak.rss, now.rss);
      peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
    }, 10);
    const { logging, requests } = recordingClient();
    try {
      const outcomes = await logging.stow(endpointOf(rejecting, 120_000), instances.map(toStow), {
        multipart: true,
        maxBytesPerRequest: 1024 * 1024 * 1024,
      });
      expect(outcomes).toEqual(instances.map(success));
    } finally {
      clearInterval(sampler);
      await logging.close();
      await rm(big.directory, { recursive: true, force: true });
    }
    expect(requests).toHaveLength(1);
    expect(requests[0].bytes).toBeGreaterThan(bodyBytes);
    const growth = { rss: peak.rss - before.rss, arrayBuffers: peak.arrayBuffers - before.arrayBuffers };
    // Bounds far below the body but above garbage the collector has not freed yet under load (seen
    // up to 31 MB of 256 KB read chunks); a body held in memory shows +500 MB of each.
    expect(growth.rss).toBeLessThan(bodyBytes / 5);
    expect(growth.arrayBuffers).toBeLessThan(bodyBytes / 4);
  });
});
