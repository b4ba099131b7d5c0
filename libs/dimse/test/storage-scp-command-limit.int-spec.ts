import type { StorageScp } from '../src/scp/storage-scp';
import { pDataHeader, PdvControl } from '../src/upper-layer/pdu';
import { RawPeer } from './support/raw-requestor';
import { listeningScp } from './support/test-scp';

// The acceptor keeps a command set's fragments until the last one: a peer that never marks one
// last, while never silent for the idle limit, must not fill the worker's memory.
jest.setTimeout(15_000);

const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const PDU_DATA = 256 * 1024;
const MiB = 1024 * 1024;

let scp: StorageScp;
let port: number;

beforeEach(async () => {
  ({ scp, port } = await listeningScp({
    maxPduLength: PDU_DATA,
    identifyCaller: (aeTitle) => Promise.resolve(aeTitle === 'MODALITY1' ? { id: 'p1', aeTitle } : undefined),
    store: () => Promise.reject(new Error('no data set is expected here')),
  }));
});

afterEach(async () => {
  await scp.close(0);
});

it('a command set past 16 MB (no last fragment) is aborted at once, not kept until the idle limit', async () => {
  const peer = await RawPeer.open(port);
  const answer = await peer.request({
    callingAeTitle: 'MODALITY1',
    calledAeTitle: 'PACSLINK',
    maxPduLength: PDU_DATA,
    contexts: [{ id: 1, abstractSyntaxUid: CT, transferSyntaxUids: [EXPLICIT] }],
  });
  expect(answer[0]).toBe(0x02);
  const data = Buffer.alloc(PDU_DATA - 6);
  const fragment = Buffer.concat([pDataHeader(1, PdvControl.Command, data.length), data]);
  const started = Date.now();
  for (let sent = 0; sent < 24 * MiB && !peer.socket.destroyed; sent += data.length) {
    if (!peer.socket.write(fragment)) {
      await new Promise((resolve) => {
        peer.socket.once('drain', resolve);
        peer.socket.once('close', resolve);
      });
    }
  }
  expect(await peer.closedWithin(3_000)).toBe(true);
  expect(Date.now() - started).toBeLessThan(5_000);
  // A-ABORT, service provider, invalid PDU parameter value (PS3.8 Table 9-26).
  expect([...peer.bytes().subarray(-10)]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 6]);
});
