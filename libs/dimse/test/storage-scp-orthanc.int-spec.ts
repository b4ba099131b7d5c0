import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type GeneratedStudy,
  generateStudy,
  orthancRest,
  type PeerEndpoints,
  runDcmtk,
  startPeers,
  storescu,
  uniqueSuffix,
} from '@pacslink/testing';
import { StorageScp, type IncomingInstance, type StoreResult } from '../src/scp/storage-scp';
import { EXPLICIT_VR_LE, IMPLICIT_VR_LE } from './support/raw-requestor';

// Orthanc (the shared test peer) as a sender to our Storage SCP: pushing a study through its REST
// API, and as the source of a C-MOVE that DCMTK's movescu asks of it with our AE as destination.
// Orthanc learns our SCP as a modality through its REST API (PUT /modalities/{id}), for this test.
jest.setTimeout(60_000);

const SCP_AE = `SCP${uniqueSuffix().slice(0, 8).toUpperCase()}`;
/** A calling AE title registered in Orthanc's DicomModalities by scripts/test-peers.sh. */
const MOVE_CALLER = 'MOVESCU_DCMTK';

interface Received extends IncomingInstance {
  callingAeTitle: string;
  bytes: number;
}

let peers: PeerEndpoints;
let workDir: string;
let scp: StorageScp;
const received: Received[] = [];
const modality = `pacslink-scp-it-${uniqueSuffix()}`;

async function drain(dataSet: AsyncIterable<Buffer>): Promise<number> {
  let bytes = 0;
  for await (const chunk of dataSet) bytes += chunk.length;
  return bytes;
}

/** Sends `study` to Orthanc with storescu; answers Orthanc's own id of the study. */
async function intoOrthanc(study: GeneratedStudy): Promise<string> {
  await storescu(peers.orthanc, [study.directory], ['+sd', '+r']);
  // Without Expand, /tools/find answers Orthanc's own ids.
  const [id] = (await orthancRest(peers.orthanc, 'POST', '/tools/find', {
    Level: 'Study',
    Query: { StudyInstanceUID: study.studyInstanceUid },
  })) as string[];
  if (id === undefined) throw new Error(`Orthanc does not hold study ${study.studyInstanceUid}`);
  return id;
}

function sopInstanceUids(study: GeneratedStudy): string[] {
  return study.series.flatMap((series) => series.instances.map((instance) => instance.sopInstanceUid)).sort();
}

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-scp-orthanc-'));
  scp = new StorageScp({
    aeTitle: SCP_AE,
    port: 0,
    maxAssociations: 4,
    maxAssociationsPerCaller: 2,
    artimTimeoutMs: 5_000,
    idleTimeoutMs: 30_000,
    maxPduLength: 256 * 1024,
    storageTransferSyntaxes: [EXPLICIT_VR_LE, IMPLICIT_VR_LE],
    identifyCaller: (aeTitle) =>
      Promise.resolve(aeTitle === peers.orthanc.aet ? { id: 'orthanc', aeTitle } : undefined),
    store: async (association, instance, dataSet): Promise<StoreResult> => {
      const bytes = await drain(dataSet);
      received.push({ ...instance, callingAeTitle: association.callingAeTitle, bytes });
      return { status: 0x0000 };
    },
  });
  const { port } = await scp.listen();
  // Orthanc must know the destination of a C-STORE or C-MOVE by AE title, host and port.
  await orthancRest(peers.orthanc, 'PUT', `/modalities/${modality}`, {
    AET: SCP_AE,
    Host: '127.0.0.1',
    Port: port,
  });
});

afterAll(async () => {
  await orthancRest(peers.orthanc, 'DELETE', `/modalities/${modality}`).catch(() => undefined);
  await scp?.close(0);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

beforeEach(() => {
  received.length = 0;
});

it('receives what Orthanc pushes through its REST API (POST /modalities/{id}/store): no Move Originator', async () => {
  const study = await generateStudy(join(workDir, 'pushed'), { series: 2, instancesPerSeries: 3 });
  const orthancId = await intoOrthanc(study);
  await orthancRest(peers.orthanc, 'POST', `/modalities/${modality}/store`, {
    Resources: [orthancId],
    Synchronous: true,
  });
  expect(received.map((instance) => instance.sopInstanceUid).sort()).toEqual(sopInstanceUids(study));
  for (const instance of received) {
    expect(instance).toMatchObject({
      callingAeTitle: peers.orthanc.aet,
      sopClassUid: study.series[0].instances[0].sopClassUid,
    });
    expect(instance.bytes).toBeGreaterThan(8_000);
    expect(instance.moveOriginator).toBeUndefined();
  }
});

it("receives a C-MOVE's sub-operations from Orthanc (movescu, our AE as destination), each naming the move's originator", async () => {
  const study = await generateStudy(join(workDir, 'moved'), { series: 1, instancesPerSeries: 4 });
  await intoOrthanc(study);
  const { stdout, stderr } = await runDcmtk('movescu', [
    '-v',
    '-S',
    '-aet',
    MOVE_CALLER,
    '-aec',
    peers.orthanc.aet,
    '-aem',
    SCP_AE,
    '-k',
    'QueryRetrieveLevel=STUDY',
    '-k',
    `StudyInstanceUID=${study.studyInstanceUid}`,
    peers.orthanc.host,
    String(peers.orthanc.port),
  ]);
  expect(`${stdout}${stderr}`).toMatch(/Received Final Move Response \(Success\)/);
  expect(received.map((instance) => instance.sopInstanceUid).sort()).toEqual(sopInstanceUids(study));
  // PS3.7 9.3.1.1: a C-STORE sub-operation carries (0000,1030) and (0000,1031) of the C-MOVE-RQ;
  // movescu's first request has Message ID 1.
  for (const instance of received) {
    expect(instance.moveOriginator).toEqual({ aeTitle: MOVE_CALLER, messageId: 1 });
  }
});
