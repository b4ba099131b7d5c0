import { connect, type Socket } from 'node:net';
import { decodeCommand, encodeCStoreRq, type DecodedCommand } from '../../src/store/command-set';
import {
  encodeAssociateRq,
  pDataHeader,
  PdvControl,
  type ProposedPresentationContext,
} from '../../src/upper-layer/pdu';

/**
 * A DICOM requestor of raw PDUs, for driving the Storage SCP's acceptor where DCMTK's tools cannot
 * be made to go: stop half-way through a data set, stay silent, outpace the disk, send what PS3.8
 * forbids. It writes exactly the bytes a test gives it and keeps everything it receives.
 */

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
export const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
export const VERIFICATION = '1.2.840.10008.1.1';

export interface AssociateRqOptions {
  callingAeTitle: string;
  calledAeTitle: string;
  /** the largest P-DATA-TF PDU we accept, announced to the SCP */
  maxPduLength: number;
  contexts?: ProposedPresentationContext[];
}

export function associateRq(options: AssociateRqOptions): Buffer {
  return encodeAssociateRq({
    callingAeTitle: options.callingAeTitle,
    calledAeTitle: options.calledAeTitle,
    maxPduLength: options.maxPduLength,
    contexts: options.contexts ?? [
      { id: 1, abstractSyntaxUid: CT_IMAGE_STORAGE, transferSyntaxUids: [EXPLICIT_VR_LE] },
    ],
  });
}

/** One P-DATA-TF PDU carrying one PDV. */
export function pData(contextId: number, control: number, data: Buffer): Buffer {
  return Buffer.concat([pDataHeader(contextId, control, data.length), data]);
}

/**
 * A C-STORE-RQ command and its data set as P-DATA-TF PDUs of at most `maxPduLength` (PS3.8 9.3.1:
 * the PDV item headers count), on context `contextId`.
 */
export function cStorePdus(options: {
  contextId?: number;
  sopClassUid?: string;
  sopInstanceUid: string;
  dataSet: Buffer;
  maxPduLength: number;
  messageId?: number;
}): Buffer[] {
  const contextId = options.contextId ?? 1;
  const command = encodeCStoreRq({
    sopClassUid: options.sopClassUid ?? CT_IMAGE_STORAGE,
    sopInstanceUid: options.sopInstanceUid,
    messageId: options.messageId ?? 1,
    priority: 0,
  });
  const pdus = [pData(contextId, PdvControl.Command | PdvControl.Last, command)];
  const room = options.maxPduLength - 6;
  for (let offset = 0; offset < options.dataSet.length || offset === 0; offset += room) {
    const piece = options.dataSet.subarray(offset, offset + room);
    const last = offset + room >= options.dataSet.length;
    pdus.push(pData(contextId, last ? PdvControl.Last : 0, piece));
    if (last) break;
  }
  return pdus;
}

export interface ReceivedPdu {
  type: number;
  body: Buffer;
}

/** The PDUs in what the SCP sent; throws on bytes that are not whole PDUs (the SCP's own framing). */
export function splitPdus(bytes: Buffer): ReceivedPdu[] {
  const pdus: ReceivedPdu[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 6 > bytes.length) throw new Error(`a PDU header cut at byte ${offset} of ${bytes.length}`);
    const end = offset + 6 + bytes.readUInt32BE(offset + 2);
    if (end > bytes.length) throw new Error(`a PDU cut at byte ${bytes.length}, announced to end at ${end}`);
    pdus.push({ type: bytes.readUInt8(offset), body: bytes.subarray(offset + 6, end) });
    offset = end;
  }
  return pdus;
}

/** The DIMSE responses (command sets) in the P-DATA-TF PDUs the SCP sent. */
export function responsesIn(pdus: readonly ReceivedPdu[]): DecodedCommand[] {
  const responses: DecodedCommand[] = [];
  let fragments: Buffer[] = [];
  for (const pdu of pdus) {
    if (pdu.type !== 0x04) continue;
    for (let offset = 0; offset < pdu.body.length;) {
      const length = pdu.body.readUInt32BE(offset);
      const control = pdu.body.readUInt8(offset + 5);
      fragments.push(pdu.body.subarray(offset + 6, offset + 4 + length));
      if ((control & PdvControl.Last) !== 0) {
        responses.push(decodeCommand(Buffer.concat(fragments)));
        fragments = [];
      }
      offset += 4 + length;
    }
  }
  return responses;
}

export class RawPeer {
  readonly socket: Socket;
  readonly received: Buffer[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.received.push(chunk));
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
    this.socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<RawPeer> {
    const peer = new RawPeer(port);
    await new Promise<void>((resolve) => peer.socket.once('connect', () => resolve()));
    return peer;
  }

  /** Sends an A-ASSOCIATE-RQ and answers the whole answer PDU (AC or RJ), then forgets it. */
  async request(options: AssociateRqOptions): Promise<Buffer> {
    this.socket.write(associateRq(options));
    await this.waitFor((bytes) => bytes.length >= 6 && bytes.length >= 6 + bytes.readUInt32BE(2));
    const answer = this.bytes();
    this.received.length = 0;
    return answer;
  }

  bytes(): Buffer {
    return Buffer.concat(this.received);
  }

  pdus(): ReceivedPdu[] {
    return splitPdus(this.bytes());
  }

  async waitFor(done: (bytes: Buffer) => boolean, timeoutMs = 5_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!done(this.bytes())) {
      if (Date.now() > until) throw new Error(`no answer; received ${this.bytes().toString('hex')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Resolves true once the SCP closed the connection, false when `timeoutMs` passed first. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const closed = await Promise.race([this.closed.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return closed;
  }
}
