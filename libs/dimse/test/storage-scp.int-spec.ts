import { connect, type Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { StorageScp, type StoreResult } from '../src/scp/storage-scp';
import { encodeCStoreRq } from '../src/store/command-set';
import {
  decodeAssociateAc,
  encodeAbort,
  encodeAssociateRq,
  encodeReleaseRq,
  pDataHeader,
  PdvControl,
  type ProposedPresentationContext,
} from '../src/upper-layer/pdu';

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

class RawPeer {
  readonly socket: Socket;
  readonly received: Buffer[] = [];
  readonly closed: Promise<void>;

  private constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.received.push(chunk));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<RawPeer> {
    const peer = new RawPeer(port);
    await new Promise<void>((resolve) => peer.socket.once('connect', () => resolve()));
    return peer;
  }

  /** Sends an A-ASSOCIATE-RQ and answers the whole answer PDU (AC or RJ). */
  async request(
    contexts: ProposedPresentationContext[] = [
      { id: 1, abstractSyntaxUid: CT, transferSyntaxUids: [EXPLICIT] },
    ],
  ): Promise<Buffer> {
    this.socket.write(
      encodeAssociateRq({
        callingAeTitle: 'MODALITY1',
        calledAeTitle: 'PACSLINK',
        maxPduLength: PDU_DATA,
        contexts,
      }),
    );
    await this.waitFor((bytes) => bytes.length >= 6 && bytes.length >= 6 + bytes.readUInt32BE(2));
    const answer = this.bytes();
    this.received.length = 0;
    return answer;
  }

  async associate(): Promise<void> {
    expect((await this.request())[0]).toBe(0x02);
  }

  /** A C-STORE-RQ and `dataBytes` of its data set in PDUs of at most PDU_DATA, the last one marked last when `complete`. */
  sendStore(dataBytes: number, complete: boolean): boolean {
    const command = encodeCStoreRq({ sopClassUid: CT, sopInstanceUid: '1.2.3.4', messageId: 1, priority: 0 });
    this.socket.write(
      Buffer.concat([pDataHeader(1, PdvControl.Command | PdvControl.Last, command.length), command]),
    );
    let flowing = true;
    for (let sent = 0; sent < dataBytes; sent += PDV_DATA) {
      const piece = Buffer.alloc(Math.min(PDV_DATA, dataBytes - sent), 0x41);
      const last = complete && sent + piece.length >= dataBytes;
      flowing = this.socket.write(
        Buffer.concat([pDataHeader(1, last ? PdvControl.Last : 0, piece.length), piece]),
      );
    }
    return flowing;
  }

  bytes(): Buffer {
    return Buffer.concat(this.received);
  }

  async waitFor(done: (bytes: Buffer) => boolean, timeoutMs = 5_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!done(this.bytes())) {
      if (Date.now() > until) throw new Error(`no answer; received ${this.bytes().toString('hex')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('Storage SCP acceptor (PS3.8) against a raw requestor', () => {
  let scp: StorageScp;
  let port: number;
  let calls: StoreCall[];
  let holdMs: number;

  async function readAll(dataSet: Readable, call: StoreCall): Promise<StoreResult> {
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    // The SCP hands a PassThrough: what waits in it, on either side.
    call.queuedWhileIdle = dataSet.readableLength + (dataSet as Duplex).writableLength;
    try {
      for await (const chunk of dataSet as AsyncIterable<Buffer>) call.received += chunk.length;
      return { status: 0 };
    } catch (error) {
      call.error = (error as Error).message;
      return { status: 0xa700 };
    }
  }

  beforeEach(async () => {
    calls = [];
    holdMs = 0;
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
        Promise.resolve(aeTitle === 'MODALITY1' ? { id: 'p1', aeTitle } : undefined),
      store: (_association, _instance, dataSet) => {
        const call: StoreCall = { received: 0, queuedWhileIdle: 0 };
        calls.push(call);
        return readAll(dataSet, call);
      },
    });
    port = (await scp.listen()).port;
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
    const answer = await peer.request([
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
      await peer.associate();
      peers.push(peer);
    }
    const fifth = await RawPeer.open(port);
    expect([...(await fifth.request())]).toEqual([0x03, 0, 0, 0, 0, 4, 0, 2, 3, 2]);
    // One ends: a new association is accepted again.
    peers[0].socket.write(encodeReleaseRq());
    await peers[0].closed;
    const sixth = await RawPeer.open(port);
    await sixth.associate();
  });

  it('aborts on a P-DATA-TF past the PDU length it announced', async () => {
    const peer = await RawPeer.open(port);
    await peer.associate();
    const data = Buffer.alloc(PDV_DATA + 1);
    peer.socket.write(
      Buffer.concat([pDataHeader(1, PdvControl.Command | PdvControl.Last, data.length), data]),
    );
    await peer.closed;
    // A-ABORT, service provider, invalid PDU parameter value (PS3.8 Table 9-26).
    expect([...peer.bytes()]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 6]);
  });

  it('answers A-RELEASE-RQ with A-RELEASE-RP and closes', async () => {
    const peer = await RawPeer.open(port);
    await peer.associate();
    peer.socket.write(encodeReleaseRq());
    await peer.waitFor((bytes) => bytes.length >= 10);
    expect([...peer.bytes()]).toEqual([0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    await peer.closed;
  });

  it('an A-ABORT inside a data set: the store sees its data set end with an error, not a short file', async () => {
    const peer = await RawPeer.open(port);
    await peer.associate();
    peer.sendStore(100_000, false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    peer.socket.write(encodeAbort());
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls).toHaveLength(1);
    expect(calls[0].error).toMatch(/the association ended inside the data set: the peer aborted it/);
  });

  it('holds the peer back (TCP) while the store does not read: memory stays at a few PDUs, not the data set', async () => {
    holdMs = 1_000;
    const peer = await RawPeer.open(port);
    await peer.associate();
    const dataBytes = 32 * 1024 * 1024;
    peer.sendStore(dataBytes, true);
    // C-STORE-RSP: status 0x0000 once the store read everything.
    await peer.waitFor((bytes) => bytes.length > 12, 20_000);
    expect(calls[0].received).toBe(dataBytes);
    expect(calls[0].queuedWhileIdle).toBeLessThanOrEqual(1024 * 1024);
  });
});
