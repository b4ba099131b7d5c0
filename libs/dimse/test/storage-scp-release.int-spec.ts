import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateStudy, type GeneratedStudy, storescu } from '@pacslink/testing';
import type { AssociationSummary, ScpAssociationInfo, StorageScp } from '../src/scp/storage-scp';
import { encodeReleaseRq } from '../src/upper-layer/pdu';
import { cStorePdus, RawPeer, responsesIn } from './support/raw-requestor';
import { datasetBytesOf } from './support/store-fixtures';
import { listeningScp } from './support/test-scp';

// The Storage SCP's beforeRelease hook: the step a service awaits between the peer's A-RELEASE-RQ
// and our A-RELEASE-RP (dimse-worker makes the association's files durable there), and the
// A-ABORT that replaces the RP when the step fails.
jest.setTimeout(30_000);

/** the test SCP's maxPduLength */
const PDU_DATA = 16 * 1024;
const A_RELEASE_RP = 0x06;
const A_ABORT = 0x07;
/** How long the hook holds the release in the first test: far above a loopback round trip. */
const HOLD_MS = 500;

let scp: StorageScp;
let port: number;
let ends: AssociationSummary[];
let beforeRelease: (association: ScpAssociationInfo) => Promise<void>;
let workDir: string;
let study: GeneratedStudy;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-scp-release-'));
  study = await generateStudy(workDir, { series: 1, instancesPerSeries: 3 });
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

beforeEach(async () => {
  ends = [];
  beforeRelease = () => Promise.resolve();
  ({ scp, port } = await listeningScp({
    store: async (_association, _instance, dataSet) => {
      for await (const chunk of dataSet) void chunk;
      return { status: 0 };
    },
    beforeRelease: (association) => beforeRelease(association),
    associationEnded: (summary) => ends.push(summary),
  }));
});

afterEach(async () => {
  await scp.close(0);
});

/** An association from MODALITY1 that stored one instance (its C-STORE-RSP received). */
async function associatedAndStored(): Promise<RawPeer> {
  const peer = await RawPeer.open(port);
  const answer = await peer.request({
    callingAeTitle: 'MODALITY1',
    calledAeTitle: 'PACSLINK',
    maxPduLength: PDU_DATA,
  });
  expect(answer[0]).toBe(0x02);
  const [instance] = study.series[0].instances;
  const dataSet = await datasetBytesOf(instance.file);
  for (const pdu of cStorePdus({
    sopInstanceUid: instance.sopInstanceUid,
    dataSet,
    maxPduLength: PDU_DATA,
  })) {
    peer.socket.write(pdu);
  }
  await peer.waitFor(() => responsesIn(peer.pdus()).length === 1);
  expect(responsesIn(peer.pdus())[0]).toMatchObject({ status: 0 });
  peer.received.length = 0;
  return peer;
}

it('sends the A-RELEASE-RP only once beforeRelease has settled', async () => {
  let settledAt: number | undefined;
  const called: ScpAssociationInfo[] = [];
  beforeRelease = async (association) => {
    called.push(association);
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    settledAt = Date.now();
  };
  const peer = await associatedAndStored();
  peer.socket.write(encodeReleaseRq());
  await peer.waitFor((bytes) => bytes.length > 0);
  const answeredAt = Date.now();
  expect(peer.pdus().map((pdu) => pdu.type)).toEqual([A_RELEASE_RP]);
  expect(settledAt).toBeDefined();
  expect(answeredAt).toBeGreaterThanOrEqual(settledAt ?? Infinity);
  expect(called).toEqual([expect.objectContaining({ callingAeTitle: 'MODALITY1' })]);
  await peer.closed;
  expect(ends.map((summary) => summary.end)).toEqual([{ kind: 'released' }]);
});

it('a failing beforeRelease aborts the association (A-ABORT) instead of releasing it', async () => {
  beforeRelease = () => Promise.reject(new Error('fsync: EIO'));
  const peer = await associatedAndStored();
  peer.socket.write(encodeReleaseRq());
  await peer.closed;
  // A-ABORT from the service provider; no A-RELEASE-RP before it.
  expect(peer.pdus().map((pdu) => pdu.type)).toEqual([A_ABORT]);
  expect(ends.map((summary) => summary.end)).toEqual([{ kind: 'aborted', reason: 'fsync: EIO' }]);
});

it('DCMTK storescu reports the failure when its release is answered with A-ABORT', async () => {
  const files = study.series[0].instances.map((instance) => instance.file);
  const target = { aet: 'PACSLINK', host: '127.0.0.1', port };
  await expect(storescu(target, files)).resolves.toBeDefined();
  beforeRelease = () => Promise.reject(new Error('fsync: EIO'));
  await expect(storescu(target, files)).rejects.toThrow(/exited with/);
  expect(ends.map((summary) => summary.end.kind)).toEqual(['released', 'aborted']);
});
