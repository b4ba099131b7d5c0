import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { AssociateReject } from '../protocol/association-reject';
import {
  decodeAbort,
  decodePDataTf,
  pDataHeader,
  PDV_HEADER_LENGTH,
  PduFormatError,
  PduType,
  PdvControl,
  type AcceptedPresentationContext,
} from './pdu';
import {
  decodeAssociateRq,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeProviderAbort,
  encodeReleaseRp,
  type ReceivedAssociateRequest,
} from './pdu-acceptor';
import { PduReader, type RawPdu } from './pdu-reader';

export interface UlAcceptorOptions {
  /** The largest P-DATA-TF PDU we accept (announced in the A-ASSOCIATE-AC; larger ones abort). */
  maxPduLength: number;
  /** PS3.8 9.1.5 ARTIM: the wait for the A-ASSOCIATE-RQ, and for the peer to close after A-RELEASE-RP. */
  artimTimeoutMs: number;
  /** The longest the peer may stay silent while the association is up (then A-ABORT). */
  idleTimeoutMs: number;
}

export type AssociateDecision = { accept: AcceptedPresentationContext[] } | { reject: AssociateReject };

/** What the service does with one DIMSE message (a command set and, when it says so, a data set). */
export interface MessageHandling {
  /** Present when a data set follows: its fragments are written here, with back-pressure, then ended. */
  dataSet?: Writable;
  /**
   * Settles with the response command set once the message is handled. Settling before the data
   * set is complete means the service stopped reading it: the rest is received and dropped, and
   * the response goes once the last fragment is in (PS3.7: a response answers a whole request).
   */
  response: Promise<Buffer>;
}

export type AssociationEnd =
  | { kind: 'released' }
  | { kind: 'rejected'; reject: AssociateReject }
  | { kind: 'aborted-by-peer' }
  | { kind: 'aborted'; reason: string }
  | { kind: 'closed'; reason: string };

export interface UlAcceptorHandler {
  associate(request: ReceivedAssociateRequest): Promise<AssociateDecision>;
  message(contextId: number, command: Buffer): MessageHandling;
  /**
   * Awaited once the peer asks to release (every message answered), before the A-RELEASE-RP goes:
   * the last moment the service can refuse the association's success, e.g. by failing to make what
   * it received durable. A rejection aborts the association instead (A-ABORT, ended 'aborted' with
   * the rejection's message). The peer is not read meanwhile.
   */
  beforeRelease?(): Promise<void>;
  /** Called once, when the connection is gone; a data set in progress was destroyed before. */
  ended(end: AssociationEnd): void;
}

/** PS3.8 Table 9-26 provider abort reasons. */
const ABORT_UNEXPECTED_PDU = 2;
const ABORT_INVALID_PDU_PARAMETER = 6;
/** The A-ASSOCIATE-RQ may be longer than the P-DATA limit (many contexts); PS3.8 9.3.1 applies it to P-DATA-TF. */
const ASSOCIATE_RQ_LIMIT = 1024 * 1024;
/** Used when the peer announces no limit (0). */
const SEND_PDU_LENGTH_CAP = 1024 * 1024;
/** A request's command set is a few hundred bytes; past this a peer is filling our memory. */
const MAX_COMMAND_SET_LENGTH = 16 * 1024 * 1024;

type State = 'awaiting-request' | 'negotiating' | 'established' | 'ended';

/** A well-formed PDU that the state of the association does not allow (PS3.8 9.2, Table 9-10). */
class UnexpectedPduError extends PduFormatError {}

interface Incoming {
  contextId: number;
  handling: MessageHandling;
  /** the service settled early: the rest of the data set is dropped */
  dropping: boolean;
  responded: Promise<Buffer>;
}

/**
 * The acceptor's side of one association (PS3.8 9.2 state machine, the subset a Storage and
 * Verification SCP needs): A-ASSOCIATE-RQ within ARTIM, AC or RJ, P-DATA-TF both ways,
 * A-RELEASE-RQ answered with RP (then closed), A-ABORT either way. PDUs are handled one at a time
 * with the socket paused meanwhile, so a slow data-set sink (a slow disk) holds the peer back
 * through TCP instead of filling memory.
 */
export class UlAcceptor {
  private state: State = 'awaiting-request';
  private readonly reader: PduReader;
  private readonly queue: RawPdu[] = [];
  private pumping = false;
  private timer: NodeJS.Timeout | undefined;
  /** Raised by every arm() and disarm(): a timeout of an earlier arming does nothing. */
  private armings = 0;
  private peerMaxPdvData = SEND_PDU_LENGTH_CAP - PDV_HEADER_LENGTH;
  private commandFragments: Buffer[] = [];
  private commandLength = 0;
  private incoming: Incoming | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly options: UlAcceptorOptions,
    private readonly handler: UlAcceptorHandler,
  ) {
    this.reader = new PduReader(Math.max(options.maxPduLength, ASSOCIATE_RQ_LIMIT));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: Error) => this.end({ kind: 'closed', reason: error.message }));
    socket.on('close', () => this.end({ kind: 'closed', reason: 'the peer closed the connection' }));
    this.arm(options.artimTimeoutMs, () =>
      this.abort(`no A-ASSOCIATE-RQ within ${options.artimTimeoutMs} ms (ARTIM)`),
    );
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'ended') return;
    try {
      this.queue.push(...this.reader.push(chunk));
    } catch (error) {
      this.abort((error as Error).message, ABORT_INVALID_PDU_PARAMETER);
      return;
    }
    if (this.queue.length > 0) void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    this.socket.pause();
    this.disarm();
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        if (this.state === 'ended') return;
        await this.onPdu(next);
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const abortReason =
        error instanceof UnexpectedPduError
          ? ABORT_UNEXPECTED_PDU
          : error instanceof PduFormatError
            ? ABORT_INVALID_PDU_PARAMETER
            : 0;
      this.abort(reason, abortReason);
      return;
    } finally {
      this.pumping = false;
    }
    if (this.state === 'established') {
      this.arm(this.options.idleTimeoutMs, () =>
        this.abort(`the peer was silent for ${this.options.idleTimeoutMs} ms`),
      );
    }
    if (this.state !== 'ended') this.socket.resume();
  }

  private async onPdu(pdu: RawPdu): Promise<void> {
    switch (pdu.type) {
      case PduType.AssociateRq:
        if (this.state !== 'awaiting-request') throw new UnexpectedPduError('a second A-ASSOCIATE-RQ');
        await this.negotiate(decodeAssociateRq(pdu.body));
        return;
      case PduType.PDataTf:
        if (this.state !== 'established') throw new UnexpectedPduError('P-DATA-TF before the association');
        // PS3.8 9.3.1: the limit we announced; the reader's own bound is larger, for the A-ASSOCIATE-RQ.
        if (pdu.body.length > this.options.maxPduLength) {
          throw new PduFormatError(
            `a P-DATA-TF of ${pdu.body.length} bytes, past the ${this.options.maxPduLength} bytes announced`,
          );
        }
        for (const pdv of decodePDataTf(pdu.body)) await this.onPdv(pdv.contextId, pdv.control, pdv.data);
        return;
      case PduType.ReleaseRq:
        if (this.state !== 'established') throw new UnexpectedPduError('A-RELEASE-RQ outside an association');
        if (this.incoming !== undefined || this.commandFragments.length > 0) {
          throw new PduFormatError('A-RELEASE-RQ in the middle of a DIMSE message');
        }
        await this.handler.beforeRelease?.();
        // Ended meanwhile (shutdown, the connection lost): nothing to answer.
        if (this.state !== 'established') return;
        this.socket.write(encodeReleaseRp());
        this.end({ kind: 'released' });
        // PS3.8 9.2 (Sta13): the requestor closes; ARTIM bounds how long we wait for it.
        this.arm(this.options.artimTimeoutMs, () => this.socket.destroy());
        this.socket.end();
        return;
      case PduType.Abort:
        decodeAbort(pdu.body);
        this.end({ kind: 'aborted-by-peer' });
        this.socket.destroy();
        return;
      default:
        this.abort(`unexpected PDU type 0x${pdu.type.toString(16)}`, ABORT_UNEXPECTED_PDU);
    }
  }

  private async negotiate(request: ReceivedAssociateRequest): Promise<void> {
    this.state = 'negotiating';
    const decision = await this.handler.associate(request);
    if (this.state !== 'negotiating') return;
    if ('reject' in decision) {
      this.socket.write(encodeAssociateRj(decision.reject));
      this.end({ kind: 'rejected', reject: decision.reject });
      this.arm(this.options.artimTimeoutMs, () => this.socket.destroy());
      this.socket.end();
      return;
    }
    const peerMax = request.maxPduLength === 0 ? SEND_PDU_LENGTH_CAP : request.maxPduLength;
    this.peerMaxPdvData = Math.max(1, Math.min(peerMax, SEND_PDU_LENGTH_CAP) - PDV_HEADER_LENGTH);
    this.state = 'established';
    this.socket.write(
      encodeAssociateAc({
        calledAeTitle: request.calledAeTitle,
        callingAeTitle: request.callingAeTitle,
        contexts: decision.accept,
        maxPduLength: this.options.maxPduLength,
      }),
    );
  }

  private async onPdv(contextId: number, control: number, data: Buffer): Promise<void> {
    if ((control & PdvControl.Command) !== 0) {
      if (this.incoming !== undefined) throw new PduFormatError('a command fragment inside a data set');
      this.commandLength += data.length;
      if (this.commandLength > MAX_COMMAND_SET_LENGTH) {
        throw new PduFormatError(`a command set longer than ${MAX_COMMAND_SET_LENGTH} bytes`);
      }
      this.commandFragments.push(data);
      if ((control & PdvControl.Last) === 0) return;
      const command = Buffer.concat(this.commandFragments);
      this.commandFragments = [];
      this.commandLength = 0;
      const handling = this.handler.message(contextId, command);
      const incoming: Incoming = { contextId, handling, dropping: false, responded: handling.response };
      if (handling.dataSet === undefined) {
        await this.respond(incoming);
        return;
      }
      // Settling early means the sink is no longer read: drop what is left of the data set.
      handling.response.then(
        () => (incoming.dropping = true),
        () => (incoming.dropping = true),
      );
      this.incoming = incoming;
      return;
    }
    const incoming = this.incoming;
    if (incoming === undefined || incoming.handling.dataSet === undefined) {
      throw new PduFormatError('a data set fragment without its command');
    }
    if (incoming.contextId !== contextId) {
      throw new PduFormatError(
        `a data set fragment on context ${contextId}, its command on ${incoming.contextId}`,
      );
    }
    await this.writeData(incoming, incoming.handling.dataSet, data);
    if ((control & PdvControl.Last) === 0) return;
    this.incoming = undefined;
    if (!incoming.dropping && !incoming.handling.dataSet.destroyed) incoming.handling.dataSet.end();
    await this.respond(incoming);
  }

  /** Waits for the sink to take more (back-pressure) or for the service to stop reading. */
  private async writeData(incoming: Incoming, sink: Writable, data: Buffer): Promise<void> {
    if (incoming.dropping || sink.destroyed) return;
    if (sink.write(data)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        sink.removeListener('drain', done);
        sink.removeListener('close', done);
        resolve();
      };
      sink.once('drain', done);
      sink.once('close', done);
      incoming.responded.then(done, done);
    });
  }

  private async respond(incoming: Incoming): Promise<void> {
    const command = await incoming.responded;
    if (this.state !== 'established') return;
    const buffers: Buffer[] = [];
    for (let offset = 0; offset < command.length; offset += this.peerMaxPdvData) {
      const piece = command.subarray(offset, offset + this.peerMaxPdvData);
      const last = offset + piece.length >= command.length;
      buffers.push(
        pDataHeader(incoming.contextId, PdvControl.Command | (last ? PdvControl.Last : 0), piece.length),
        piece,
      );
    }
    this.socket.cork();
    for (const buffer of buffers) this.socket.write(buffer);
    this.socket.uncork();
    // A peer that does not read its responses is not read either (TCP holds it back, as it holds
    // back our data-set sink); else its requests, answered into our socket's buffer, grow memory
    // without bound. Not reading for the idle limit ends the association.
    if (this.socket.writableNeedDrain) await this.drained();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.socket.removeListener('drain', done);
        this.socket.removeListener('close', done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.abort(`the peer read no response for ${this.options.idleTimeoutMs} ms`);
        done();
      }, this.options.idleTimeoutMs);
      timer.unref();
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  /** A-ABORT from the service provider, then close once it is written (also at shutdown). */
  abort(reason: string, abortReason = 0): void {
    if (this.state === 'ended') return;
    this.end({ kind: 'aborted', reason });
    if (this.socket.destroyed) return;
    this.arm(this.options.artimTimeoutMs, () => this.socket.destroy());
    this.socket.end(encodeProviderAbort(abortReason), () => this.socket.destroy());
  }

  private end(end: AssociationEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.disarm();
    const incoming = this.incoming;
    this.incoming = undefined;
    // The writer of a half-received data set must not keep (or rename) what it has.
    incoming?.handling.dataSet?.destroy(
      new Error(`the association ended inside the data set: ${describe(end)}`),
    );
    incoming?.responded.catch(() => undefined);
    this.handler.ended(end);
  }

  /**
   * Calls `onTimeout` once `ms` passed without another arm() or disarm(). The check waits one turn
   * (setImmediate) after the timer: an event loop held up longer than `ms` runs due timers before
   * it reads what the peer already sent, and that would call a peer silent who was not (seen on a
   * loaded machine: a valid association aborted by ARTIM with its A-ASSOCIATE-RQ in the socket).
   */
  private arm(ms: number, onTimeout: () => void): void {
    clearTimeout(this.timer);
    const arming = ++this.armings;
    this.timer = setTimeout(() => {
      setImmediate(() => {
        if (arming === this.armings) onTimeout();
      });
    }, ms);
    this.timer.unref();
  }

  private disarm(): void {
    this.armings += 1;
    clearTimeout(this.timer);
  }
}

function describe(end: AssociationEnd): string {
  switch (end.kind) {
    case 'released':
      return 'released';
    case 'rejected':
      return 'rejected';
    case 'aborted-by-peer':
      return 'the peer aborted it';
    case 'aborted':
    case 'closed':
      return end.reason;
  }
}
