import type { Duplex, Readable } from 'node:stream';
import {
  StorageScp,
  type AssociationSummary,
  type StorageScpOptions,
  type StoreResult,
} from '../src/scp/storage-scp';
import { encodeCEchoRq, encodeCStoreRq } from '../src/store/command-set';
import {
  decodeAssociateAc,
  encodeAbort,
  encodeReleaseRq,
  pDataHeader,
  PdvControl,
  type ProposedPresentationContext,
} from '../src/upper-layer/pdu';
import { associateRq, RawPeer, responsesIn } from './support/raw-requestor';

// The acceptor's own behaviour on the wire, driven by a requestor of raw PDUs: what DCMTK's tools
// cannot be made to do on demand (stop half-way through a data set, stay silent, outpace the disk).
jest.setTimeout(30_000);

const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const PDU_DATA = 16 * 1024;
/** PS3.8 9.3.1: the maximum length counts the PDV item headers (6 bytes each). */
const PDV_DATA = PDU_DATA - 6;

interface StoreCall {
  received: number;
  error?: string;
  /** bytes the SCP had queued for the store, at most, while the store was not reading */
  queuedWhileIdle: number;
}

/** Sends an A-ASSOCIATE-RQ from MODALITY1 to PACSLINK and answers the whole answer PDU (AC or RJ). */
function request(
  peer: RawPeer,
  contexts: ProposedPresentationContext[] = [
    { id: 1, abstractSyntaxUid: CT, transferSyntaxUids: [EXPLICIT] },
  ],
): Promise<Buffer> {
  return peer.request({
    callingAeTitle: 'MODALITY1',
    calledAeTitle: 'PACSLINK',
    maxPduLength: PDU_DATA,
    contexts,
  });
}

async function associate(peer: RawPeer): Promise<void> {
  expect((await request(peer))[0]).toBe(0x02);
}

/**
 * A C-STORE-RQ on context `contextId` and `dataBytes` of its data set in PDUs of at most PDU_DATA,
 * the last one marked last when `complete`.
 */
function sendStore(peer: RawPeer, dataBytes: number, complete: boolean, contextId = 1): boolean {
  const command = encodeCStoreRq({ sopClassUid: CT, sopInstanceUid: '1.2.3.4', messageId: 1, priority: 0 });
  peer.socket.write(
    Buffer.concat([pDataHeader(contextId, PdvControl.Command | PdvControl.Last, command.length), command]),
  );
  let flowing = true;
  for (let sent = 0; sent < dataBytes; sent += PDV_DATA) {
    const piece = Buffer.alloc(Math.min(PDV_DATA, dataBytes - sent), 0x41);
    const last = complete && sent + piece.length >= dataBytes;
    flowing = peer.socket.write(
      Buffer.concat([pDataHeader(contextId, last ? PdvControl.Last : 0, piece.length), piece]),
    );
  }
  return flowing;
}

describe('Storage SCP acceptor (PS3.8) against a raw requestor', () => {
  let scp: StorageScp;
  let port: number;
  let calls: StoreCall[];
  let holdMs: number;

  async function readAll(dataSet: Readable, call: StoreCall): Promise<StoreResult> {
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    // The SCP hands a Transform (DataSetStream): what waits in it, on either side. Its readable
    // side counts fragments (object mode), each at most one PDV.
    call.queuedWhileIdle = dataSet.readableLength * PDV_DATA + (dataSet as Duplex).writableLength;
    try {
      for await (const chunk of dataSet as AsyncIterable<Buffer>) call.received += chunk.length;
      return { status: 0 };
    } catch (error) {
      call.error = (error as Error).message;
      return { status: 0xa700 };
    }
  }

  let ends: AssociationSummary[];
  let identifyDelayMs: number;

  async function startScp(overrides: Partial<StorageScpOptions> = {}): Promise<void> {
    scp = new StorageScp({
      aeTitle: 'PACSLINK',
      port: 0,
      host: '127.0.0.1',
      maxAssociations: 8,
      maxAssociationsPerCaller: 4,
      artimTimeoutMs: 300,
      idleTimeoutMs: 5_000,
      maxPduLength: PDU_DATA,
      storageTransferSyntaxes: [EXPLICIT],
      identifyCaller: (aeTitle) =>
        new Promise((resolve) =>
          setTimeout(
            () => resolve(aeTitle === 'MODALITY1' ? { id: 'p1', aeTitle } : undefined),
            identifyDelayMs,
          ),
        ),
      store: (_association, _instance, dataSet) => {
        const call: StoreCall = { received: 0, queuedWhileIdle: 0 };
        calls.push(call);
        return readAll(dataSet, call);
      },
      associationEnded: (summary) => ends.push(summary),
      ...overrides,
    });
    port = (await scp.listen()).port;
  }

  beforeEach(async () => {
    calls = [];
    ends = [];
    holdMs = 0;
    identifyDelayMs = 0;
    await startScp();
  });

  afterEach(async () => {
    await scp.close(0);
  });

  it('closes a connection that sends no A-ASSOCIATE-RQ within ARTIM, with an A-ABORT', async () => {
    const peer = await RawPeer.open(port);
    await peer.closed;
    expect([...peer.bytes()]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 0]);
  });

  it('negotiates each context: storage and Verification accepted, others refused with their reason (PS3.8 Table 9-18)', async () => {
    const peer = await RawPeer.open(port);
    const answer = await request(peer, [
      { id: 1, abstractSyntaxUid: CT, transferSyntaxUids: ['1.2.840.10008.1.2.2', EXPLICIT] },
      { id: 3, abstractSyntaxUid: CT, transferSyntaxUids: ['1.2.840.10008.1.2.2'] },
      { id: 5, abstractSyntaxUid: '1.2.840.10008.5.1.4.1.2.2.1', transferSyntaxUids: [EXPLICIT] },
      { id: 7, abstractSyntaxUid: '1.2.840.10008.1.1', transferSyntaxUids: ['1.2.840.10008.1.2'] },
    ]);
    expect(answer[0]).toBe(0x02);
    expect(decodeAssociateAc(answer.subarray(6))).toEqual({
      maxPduLength: PDU_DATA,
      contexts: [
        { id: 1, result: 0, transferSyntaxUid: EXPLICIT },
        { id: 3, result: 4, transferSyntaxUid: '1.2.840.10008.1.2' },
        { id: 5, result: 3, transferSyntaxUid: '1.2.840.10008.1.2' },
        { id: 7, result: 0, transferSyntaxUid: '1.2.840.10008.1.2' },
      ],
    });
  });

  it('rejects an association past the per-peer limit: transient, local limit exceeded', async () => {
    const peers = [];
    for (let index = 0; index < 4; index += 1) {
      const peer = await RawPeer.open(port);
      await associate(peer);
      peers.push(peer);
    }
    const fifth = await RawPeer.open(port);
    expect([...(await request(fifth))]).toEqual([0x03, 0, 0, 0, 0, 4, 0, 2, 3, 2]);
    // One ends: a new association is accepted again.
    peers[0].socket.write(encodeReleaseRq());
    await peers[0].closed;
    const sixth = await RawPeer.open(port);
    await associate(sixth);
  });

  it('aborts on a P-DATA-TF past the PDU length it announced', async () => {
    const peer = await RawPeer.open(port);
    await associate(peer);
    const data = Buffer.alloc(PDV_DATA + 1);
    peer.socket.write(
      Buffer.concat([pDataHeader(1, PdvControl.Command | PdvControl.Last, data.length), data]),
    );
    await peer.closed;
    // A-ABORT, service provider, invalid PDU parameter value (PS3.8 Table 9-26).
    expect([...peer.bytes()]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 6]);
  });

  it.each([
    ['a P-DATA-TF before the A-ASSOCIATE-RQ', () => pDataHeader(1, PdvControl.Command | PdvControl.Last, 0)],
    ['an A-RELEASE-RQ before the A-ASSOCIATE-RQ', () => encodeReleaseRq()],
  ])('%s: A-ABORT, unexpected PDU (PS3.8 Table 9-26)', async (_what, bytes) => {
    const peer = await RawPeer.open(port);
    peer.socket.write(bytes());
    await peer.closed;
    expect([...peer.bytes()]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 2]);
  });

  it('answers A-RELEASE-RQ with A-RELEASE-RP and closes', async () => {
    const peer = await RawPeer.open(port);
    await associate(peer);
    peer.socket.write(encodeReleaseRq());
    await peer.waitFor((bytes) => bytes.length >= 10);
    expect([...peer.bytes()]).toEqual([0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    await peer.closed;
  });

  it('an A-ABORT inside a data set: the store sees its data set end with an error, not a short file', async () => {
    const peer = await RawPeer.open(port);
    await associate(peer);
    sendStore(peer, 100_000, false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    peer.socket.write(encodeAbort());
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls).toHaveLength(1);
    expect(calls[0].error).toMatch(/the association ended inside the data set: the peer aborted it/);
  });

  it('holds the peer back (TCP) while the store does not read: memory stays at a few PDUs, not the data set', async () => {
    holdMs = 1_000;
    const peer = await RawPeer.open(port);
    await associate(peer);
    const dataBytes = 32 * 1024 * 1024;
    sendStore(peer, dataBytes, true);
    // C-STORE-RSP: status 0x0000 once the store read everything.
    await peer.waitFor((bytes) => bytes.length > 12, 20_000);
    expect(calls[0].received).toBe(dataBytes);
    expect(calls[0].queuedWhileIdle).toBeLessThanOrEqual(1024 * 1024);
  });

  it('a peer that hangs up while its AE title is looked up holds none of its associations', async () => {
    identifyDelayMs = 50;
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const peer = await RawPeer.open(port);
      peer.socket.write(
        associateRq({ callingAeTitle: 'MODALITY1', calledAeTitle: 'PACSLINK', maxPduLength: PDU_DATA }),
      );
      peer.socket.end();
      await peer.closed;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    // All four of the per-peer limit are free: none was counted for a connection already gone.
    const peers = await Promise.all([0, 1, 2, 3].map(() => RawPeer.open(port)));
    const answers = await Promise.all(peers.map((peer) => request(peer)));
    expect(answers.map((answer) => answer[0])).toEqual([0x02, 0x02, 0x02, 0x02]);
  });

  it('a peer silent inside an association is aborted once the idle limit passes', async () => {
    await scp.close(0);
    await startScp({ idleTimeoutMs: 400 });
    const peer = await RawPeer.open(port);
    await associate(peer);
    const started = Date.now();
    await peer.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect([...peer.bytes()]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 0]);
    expect(ends.map((summary) => summary.end)).toEqual([
      { kind: 'aborted', reason: 'the peer was silent for 400 ms' },
    ]);
  });

  it('a peer silent inside a data set is aborted too: the store sees its data set end with an error', async () => {
    await scp.close(0);
    await startScp({ idleTimeoutMs: 400 });
    const peer = await RawPeer.open(port);
    await associate(peer);
    sendStore(peer, 50_000, false);
    await peer.closed;
    expect(peer.pdus().map((pdu) => pdu.type)).toEqual([0x07]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls.map((call) => call.error)).toEqual([
      'the association ended inside the data set: the peer was silent for 400 ms',
    ]);
  });

  it('A-RELEASE-RQ while a data set is incomplete: A-ABORT, not A-RELEASE-RP, and the data set is not kept', async () => {
    const peer = await RawPeer.open(port);
    await associate(peer);
    sendStore(peer, 50_000, false);
    peer.socket.write(encodeReleaseRq());
    await peer.closed;
    // PS3.8 9.2: no release answer inside a DIMSE message; the provider aborts (invalid PDU parameter).
    expect([...peer.bytes()]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 6]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toHaveLength(1);
    expect(calls[0].error).toMatch(/^the association ended inside the data set: A-RELEASE-RQ in the middle/);
  });

  it('a second A-RELEASE-RQ and P-DATA-TF after the first are not answered: one A-RELEASE-RP, then closed', async () => {
    // An acceptor never requests a release, so the PS3.8 9.2.3 collision cannot happen here; what a
    // requestor that repeats itself or keeps sending after its own release gets is the one answer.
    const peer = await RawPeer.open(port);
    await associate(peer);
    peer.socket.write(encodeReleaseRq());
    peer.socket.write(encodeReleaseRq());
    sendStore(peer, 1_000, true);
    await peer.closed;
    expect([...peer.bytes()]).toEqual([0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    expect(calls).toEqual([]);
    expect(ends.map((summary) => summary.end)).toEqual([{ kind: 'released' }]);
  });

  it('a peer that sends A-ABORT right after the A-ASSOCIATE-AC: closed, reported, its slot freed', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const peer = await RawPeer.open(port);
      await associate(peer);
      peer.socket.write(encodeAbort());
      await peer.closed;
      expect(peer.bytes()).toHaveLength(0);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ends.map((summary) => summary.end.kind)).toEqual(Array(5).fill('aborted-by-peer'));
    // Five aborts from a peer allowed four at once: each one freed its association.
    const peer = await RawPeer.open(port);
    await associate(peer);
  });

  it('a C-STORE on a presentation context it rejected: A-ABORT, and the store is never called', async () => {
    const peer = await RawPeer.open(port);
    const answer = await request(peer, [
      { id: 1, abstractSyntaxUid: CT, transferSyntaxUids: ['1.2.840.10008.1.2.2'] },
      { id: 3, abstractSyntaxUid: '1.2.840.10008.5.1.4.1.2.2.1', transferSyntaxUids: [EXPLICIT] },
    ]);
    expect(decodeAssociateAc(answer.subarray(6)).contexts.map((context) => context.result)).toEqual([4, 3]);
    sendStore(peer, 1_000, true, 1);
    await peer.closed;
    expect(responsesIn(peer.pdus())).toEqual([]);
    expect([...peer.bytes()]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 0]);
    expect(calls).toEqual([]);
    expect(ends.map((summary) => summary.end)).toEqual([
      { kind: 'aborted', reason: 'a message on presentation context 1, which was not accepted' },
    ]);
  });

  it('a peer that sends requests and never reads the responses is held back (TCP), then aborted; nothing piles up', async () => {
    await scp.close(0);
    await startScp({ idleTimeoutMs: 2_000 });
    const peer = await RawPeer.open(port);
    const answer = await request(peer, [
      { id: 1, abstractSyntaxUid: '1.2.840.10008.1.1', transferSyntaxUids: ['1.2.840.10008.1.2'] },
    ]);
    expect(answer[0]).toBe(0x02);
    peer.socket.pause();
    const echo = encodeCEchoRq({ sopClassUid: '1.2.840.10008.1.1', messageId: 1 });
    const pdu = Buffer.concat([pDataHeader(1, PdvControl.Command | PdvControl.Last, echo.length), echo]);
    // 32 MB of C-ECHO-RQs, all handed to our socket before the measure starts.
    for (let sent = 0; sent < 400; sent += 1) peer.socket.write(Buffer.concat(Array(1000).fill(pdu)));
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 20);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    clearInterval(sampler);
    // Answering into its own socket buffer, the SCP grew by ~10 MB a second; held back, by what
    // the kernel buffers take before our socket reports them full.
    expect(peak - before).toBeLessThan(8 * 1024 * 1024);
    // Still not reading: the association ends once the idle limit passes without a drain.
    for (let waited = 0; ends.length === 0 && waited < 5_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(ends.map((summary) => summary.end)).toEqual([
      { kind: 'aborted', reason: 'the peer read no response for 2000 ms' },
    ]);
    peer.socket.destroy();
  });
});
