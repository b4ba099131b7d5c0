import { connect, type Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import type { Span } from '@opentelemetry/api';
import { pinnedLookup } from '@pacslink/egress';
import { resolvePeer, type ResolvedPeer } from '../association/resolve-peer';
import type { AssociationPhase, DimseFailure } from '../dimse.errors';
import type { DimseConnectionOptions } from '../dimse.options';
import { decodeCommand } from '../store/command-set';
import {
  decodeAbort,
  decodeAssociateAc,
  decodeAssociateRj,
  decodePDataTf,
  encodeAbort,
  encodeAssociateRq,
  encodeReleaseRq,
  pDataHeader,
  PDU_HEADER_LENGTH,
  PDV_HEADER_LENGTH,
  PduFormatError,
  PduType,
  PdvControl,
  type AssociateAccept,
  type ProposedPresentationContext,
  type RoleSelection,
} from './pdu';
import { associationConnected, endAssociationSpan, startAssociationSpan } from './association-span';
import { encodeReleaseRp } from './pdu-acceptor';
import { PduReader, type RawPdu } from './pdu-reader';

/** Where and as whom to associate, every wait bounded (validated and normalized by the caller). */
export type UlAssociationParams = DimseConnectionOptions;

/** A failure of the association, as observed; the caller maps it with `toDimseError`. */
export class UlFailure extends Error {
  override readonly name = 'UlFailure';

  constructor(readonly failure: DimseFailure) {
    super(failure.kind);
  }
}

/** A complete DIMSE command set from the peer (responses to C-STORE carry no data set). */
export interface IncomingCommand {
  contextId: number;
  bytes: Buffer;
  /** on a context given to `streamDatasets`, the data set this command announces, as it arrives */
  dataSet?: IncomingDatasetStream;
}

/** A data set streamed from the peer (a C-GET's C-STORE sub-operation), never whole in memory. */
export interface IncomingDatasetStream {
  /** its bytes, fragment by fragment; destroyed with the mapped failure if the association fails inside it */
  readable: Readable;
  /**
   * Resolves once its last fragment has arrived, read or dropped (a reader that stops destroys
   * `readable`: the rest is dropped); rejects with a UlFailure when the association fails first.
   */
  received: Promise<void>;
}

/** What the A-ASSOCIATE-RQ proposes besides the presentation contexts. */
export interface UlNegotiation {
  roles?: readonly RoleSelection[];
  /** the largest P-DATA-TF PDU we accept (default 64 KB: responses are small); larger ones abort */
  maxPduLength?: number;
}

interface InboundDataset {
  contextId: number;
  stream: PassThrough;
  arrived: () => void;
  failed: (error: UlFailure) => void;
}

/** A complete data set from the peer (a C-FIND match), kept only after `keepDatasets()`. */
export interface IncomingDataset {
  contextId: number;
  bytes: Buffer;
}

/** What we announce as the largest PDU we accept unless told otherwise: responses are small. */
const DEFAULT_MAX_PDU_LENGTH = 64 * 1024;
/** What a streamed data set may hold in memory on each side of its stream (as the Storage SCP's). */
const STREAM_HIGH_WATER_MARK = 256 * 1024;
/** Used when the peer announces no limit (0); large PDUs buy nothing over this. */
const SEND_PDU_LENGTH_CAP = 1024 * 1024;
/** An A-ASSOCIATE-AC may be longer than what we announced for P-DATA (PS3.8 9.3.1 applies it to P-DATA-TF). */
const READER_LIMIT = 1024 * 1024;
/** How long an A-ABORT may take to leave before the socket is destroyed anyway. */
const ABORT_LINGER_MS = 1_000;
/** Response data sets (identifiers) are small; a peer sending more is not answering a query. */
const MAX_KEPT_DATASET_LENGTH = 16 * 1024 * 1024;
/**
 * Command sets are small, but DCMTK's C-GET SCP puts the Failed SOP Instance UID List into them
 * (65 bytes per UID); past this a command set is a peer filling our memory.
 */
const MAX_COMMAND_SET_LENGTH = 16 * 1024 * 1024;

/**
 * One association of a DICOM Upper Layer SCU written from PS3.8 on a plain socket: A-ASSOCIATE,
 * P-DATA-TF written with back-pressure, A-RELEASE, A-ABORT. TCP_NODELAY is on (notes trap 1); the
 * socket is destroyed as soon as the release is answered (trap 11). Every wait for the peer is
 * bounded by the timeout of its phase. The first failure observed wins and is final.
 */
export class UlAssociation {
  phase: AssociationPhase = 'connect';
  /** the largest PDV payload the peer accepts in one P-DATA-TF */
  readonly maxPdvDataLength: number;

  private readonly commands: IncomingCommand[] = [];
  private commandFragments: Buffer[] = [];
  private commandLength = 0;
  private datasets: IncomingDataset[] | undefined;
  private datasetFragments: Buffer[] = [];
  /** the context of the data set the last command announced, until its last fragment */
  private announcedDataset: number | undefined;
  private datasetLength = 0;
  private waiter: { resolve: () => void; reject: (error: UlFailure) => void; stop: () => void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failure: DimseFailure | undefined;
  private releaseAnswered = false;
  private closing = false;
  /** PDUs read but not handled yet: handling stops while a streamed data set's reader is full */
  private readonly pending: RawPdu[] = [];
  private holding = false;
  private streamed:
    { contextIds: ReadonlySet<number>; toError: (failure: DimseFailure) => Error } | undefined;
  private inbound: InboundDataset | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly params: UlAssociationParams,
    readonly accept: AssociateAccept,
    private readonly reader: PduReader,
    private readonly firstBytes: Buffer | undefined,
    private readonly ourMaxPduLength: number,
  ) {
    const peerMax =
      accept.maxPduLength === 0 ? SEND_PDU_LENGTH_CAP : Math.min(accept.maxPduLength, SEND_PDU_LENGTH_CAP);
    this.maxPdvDataLength = peerMax - PDV_HEADER_LENGTH;
  }

  /**
   * Resolves and checks the peer (egress policy), connects to the allowed addresses only, requests
   * the association and resolves once it is accepted; rejects with a UlFailure.
   */
  static async open(
    params: UlAssociationParams,
    contexts: readonly ProposedPresentationContext[],
    negotiation: UlNegotiation = {},
  ): Promise<UlAssociation> {
    const span = startAssociationSpan(params, contexts);
    try {
      const peer = await resolvePeer(params);
      if ('failure' in peer) throw new UlFailure(peer.failure);
      const association = await UlAssociation.connect(params, contexts, negotiation, peer);
      association.traceUntilClosed(span);
      return association;
    } catch (error) {
      endAssociationSpan(span, error instanceof UlFailure ? error.failure : (error as Error));
      throw error;
    }
  }

  /** Whatever ends the association (release, abort, the peer) ends it with the socket's close. */
  private traceUntilClosed(span: Span): void {
    if (!span.isRecording()) return;
    associationConnected(span, this.socket);
    if (this.socket.destroyed) endAssociationSpan(span, this.failure);
    else this.socket.once('close', () => endAssociationSpan(span, this.failure));
  }

  private static connect(
    params: UlAssociationParams,
    contexts: readonly ProposedPresentationContext[],
    negotiation: UlNegotiation,
    peer: ResolvedPeer,
  ): Promise<UlAssociation> {
    const maxPduLength = negotiation.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
    return new Promise<UlAssociation>((resolve, reject) => {
      const socket = connect({
        host: params.host,
        port: params.port,
        noDelay: true,
        lookup: pinnedLookup(peer.addresses),
      });
      let settled = false;
      let phase: AssociationPhase = 'connect';
      let firstBytes: Buffer | undefined;
      const reader = new PduReader(READER_LIMIT);
      const finish = (failure: DimseFailure | undefined, association?: UlAssociation): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
        if (failure === undefined && association !== undefined) {
          resolve(association);
          return;
        }
        socket.destroy();
        reject(new UlFailure(failure ?? { kind: 'closed-by-peer', phase }));
      };
      let timer = setTimeout(
        () => finish({ kind: 'timeout', phase, timeoutMs: params.connectTimeoutMs }),
        peer.remainingMs,
      );
      const onError = (error: NodeJS.ErrnoException): void =>
        finish({ kind: 'socket-error', phase, errorCode: error.code, message: error.message });
      const onClose = (): void => finish({ kind: 'closed-by-peer', phase });
      const onData = (chunk: Buffer): void => {
        firstBytes ??= Buffer.from(chunk.subarray(0, 16));
        let pdus: RawPdu[];
        try {
          pdus = reader.push(chunk);
        } catch (error) {
          finish({ kind: 'protocol', phase, detail: (error as Error).message, firstBytes });
          return;
        }
        const first = pdus[0];
        if (first === undefined) return;
        try {
          switch (first.type) {
            case PduType.AssociateAc: {
              const accept = decodeAssociateAc(first.body);
              const association = new UlAssociation(socket, params, accept, reader, firstBytes, maxPduLength);
              finish(undefined, association);
              association.listen(pdus.slice(1));
              return;
            }
            case PduType.AssociateRj:
              finish({ kind: 'association-rejected', reject: decodeAssociateRj(first.body) });
              return;
            case PduType.Abort:
              finish({ kind: 'association-aborted', phase, abort: decodeAbort(first.body) });
              return;
            default:
              finish({
                kind: 'protocol',
                phase,
                detail: `PDU type 0x${first.type.toString(16)} instead of an association answer`,
                firstBytes,
              });
          }
        } catch (error) {
          finish({ kind: 'protocol', phase, detail: (error as Error).message, firstBytes });
        }
      };
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.once('connect', () => {
        phase = 'association';
        clearTimeout(timer);
        timer = setTimeout(
          () => finish({ kind: 'timeout', phase, timeoutMs: params.associationTimeoutMs }),
          params.associationTimeoutMs,
        );
        socket.write(
          encodeAssociateRq({
            callingAeTitle: params.callingAeTitle,
            calledAeTitle: params.calledAeTitle,
            contexts,
            maxPduLength,
            roles: negotiation.roles,
          }),
        );
      });
    });
  }

  /** Takes the socket over from `open`: PDUs that came with the A-ASSOCIATE-AC are not lost. */
  private listen(pending: RawPdu[]): void {
    this.phase = 'response';
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error: NodeJS.ErrnoException) =>
      this.fail({ kind: 'socket-error', phase: this.phase, errorCode: error.code, message: error.message }),
    );
    this.socket.on('close', () => {
      if (!this.closing) this.fail({ kind: 'closed-by-peer', phase: this.phase });
      this.endInbound();
      this.wake();
    });
    this.pending.push(...pending);
    this.pump();
  }

  /** Writes the buffers as one batch (one writev); call `drained()` before writing more. */
  write(buffers: readonly Buffer[]): void {
    this.throwIfFailed();
    this.socket.cork();
    for (const buffer of buffers) this.socket.write(buffer);
    this.socket.uncork();
  }

  /**
   * P-DATA-TF PDUs carrying `data` as PDVs of at most the peer's size, the last one marked last
   * when `last`; the data is referenced, not copied.
   */
  pDataBuffers(contextId: number, command: boolean, data: Buffer, last: boolean, into: Buffer[]): void {
    const kind = command ? PdvControl.Command : 0;
    for (let offset = 0; offset < data.length; offset += this.maxPdvDataLength) {
      const piece = data.subarray(offset, offset + this.maxPdvDataLength);
      const final = last && offset + piece.length >= data.length;
      into.push(pDataHeader(contextId, kind | (final ? PdvControl.Last : 0), piece.length), piece);
    }
  }

  /** Resolves when the socket takes more data (socket.write back-pressure), bounded by the PDU timeout. */
  async drained(): Promise<void> {
    while (this.socket.writableNeedDrain) {
      this.throwIfFailed();
      await this.wait(this.params.pduTimeoutMs, 'drain');
    }
    this.throwIfFailed();
  }

  /** Whether the socket has handed every byte written so far to the kernel: their buffers are free. */
  flushed(): boolean {
    return this.socket.writableLength === 0;
  }

  /**
   * The next complete command set from the peer, within the PDU timeout of asking: the clock does
   * not start again with each PDU, so a peer that trickles a response in small PDUs, never silent
   * for a whole timeout, still times out (issue 10).
   */
  async nextCommand(): Promise<IncomingCommand> {
    return this.next(this.commands);
  }

  /**
   * From now on, data sets that follow the peer's command sets are kept for `nextDataset()`
   * (C-FIND responses) instead of being dropped (C-STORE responses have none).
   */
  keepDatasets(): void {
    this.datasets ??= [];
  }

  /**
   * From now on, a command on one of `contextIds` that announces a data set (a C-STORE-RQ of a
   * C-GET) comes with that data set as a stream (`IncomingCommand.dataSet`): its fragments are
   * written to it as they arrive, and while its reader is full no more PDUs are read, which holds
   * the peer back through TCP. A peer silent for the PDU timeout inside it is aborted. `toError`
   * makes the error the stream is destroyed with when the association fails inside it.
   */
  streamDatasets(contextIds: ReadonlySet<number>, toError: (failure: DimseFailure) => Error): void {
    this.streamed = { contextIds, toError };
  }

  /** The next complete data set from the peer, within the PDU timeout of asking (see nextCommand). */
  async nextDataset(): Promise<IncomingDataset> {
    this.keepDatasets();
    return this.next(this.datasets ?? []);
  }

  private async next<T>(queue: T[]): Promise<T> {
    const deadline = performance.now() + this.params.pduTimeoutMs;
    for (;;) {
      const item = queue.shift();
      if (item !== undefined) return item;
      this.throwIfFailed();
      await this.wait(this.params.pduTimeoutMs, 'data', Math.max(1, Math.ceil(deadline - performance.now())));
    }
  }

  /**
   * A-RELEASE-RQ, then close as soon as the A-RELEASE-RP arrives. Every outcome was already
   * received, so a peer that closes, aborts or stays silent instead only earns a warning.
   */
  async release(): Promise<void> {
    this.throwIfFailed();
    this.phase = 'release';
    this.socket.write(encodeReleaseRq());
    try {
      while (!this.releaseAnswered) {
        this.throwIfFailed();
        await this.wait(this.params.pduTimeoutMs, 'data');
      }
    } catch (error) {
      if (!(error instanceof UlFailure)) throw error;
      this.params.logger?.warn({
        msg: 'the peer did not answer the A-RELEASE-RQ with an A-RELEASE-RP; closing the connection',
        host: this.params.host,
        port: this.params.port,
        calledAeTitle: this.params.calledAeTitle,
        failure: error.failure.kind,
      });
    } finally {
      this.close();
    }
  }

  /**
   * Ends the association from our side for `failure` (e.g. a PACS that ignores C-CANCEL): every
   * wait, and a data set streaming in, fails with it; then A-ABORT.
   */
  abortWith(failure: DimseFailure): void {
    this.fail(failure);
    this.abort();
  }

  /** A-ABORT (service user), then close once it is written. */
  abort(): void {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.timer);
    this.endInbound();
    if (this.socket.destroyed) return;
    const linger = setTimeout(() => this.socket.destroy(), ABORT_LINGER_MS);
    linger.unref();
    this.socket.end(encodeAbort(), () => this.socket.destroy());
  }

  /** A-RELEASE-RP to the peer's A-RELEASE-RQ, then close once it is written. */
  private answerRelease(): void {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.timer);
    const linger = setTimeout(() => this.socket.destroy(), ABORT_LINGER_MS);
    linger.unref();
    this.socket.end(encodeReleaseRp(), () => this.socket.destroy());
  }

  /** Closes the TCP connection now (after a release, or when there is nothing to abort). */
  close(): void {
    this.closing = true;
    clearTimeout(this.timer);
    this.endInbound();
    this.socket.destroy();
  }

  /** Waits for `event` at most `remainingMs`; a timeout is reported as one of `timeoutMs`. */
  private wait(timeoutMs: number, event: 'drain' | 'data', remainingMs = timeoutMs): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onDrain = (): void => this.wake();
      if (event === 'drain') this.socket.once('drain', onDrain);
      this.waiter = { resolve, reject, stop: () => this.socket.removeListener('drain', onDrain) };
      this.timer = setTimeout(() => {
        this.fail({ kind: 'timeout', phase: this.phase, timeoutMs });
        if (this.phase === 'release') this.close();
        else this.abort();
      }, remainingMs);
    });
  }

  private wake(): void {
    clearTimeout(this.timer);
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter === undefined) return;
    waiter.stop();
    if (this.failure !== undefined) waiter.reject(new UlFailure(this.failure));
    else waiter.resolve();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw new UlFailure(this.failure);
  }

  private fail(failure: DimseFailure): void {
    this.failure ??= failure;
    this.endInbound();
    this.wake();
  }

  private onData(chunk: Buffer): void {
    try {
      this.pending.push(...this.reader.push(chunk));
    } catch (error) {
      this.protocolFailure(error);
      return;
    }
    if (!this.holding) this.pump();
  }

  /** Handles the PDUs read, one at a time, until a streamed data set's reader is full. */
  private pump(): void {
    clearTimeout(this.silenceTimer);
    for (let pdu = this.pending.shift(); pdu !== undefined; pdu = this.pending.shift()) {
      this.onPdu(pdu);
      if (this.holdForReader()) return;
    }
    if (this.inbound === undefined || this.closing) return;
    // Inside a data set nobody waits on a timer of ours: its reader waits for the next fragment.
    this.silenceTimer = setTimeout(() => {
      this.fail({ kind: 'timeout', phase: this.phase, timeoutMs: this.params.pduTimeoutMs });
      this.abort();
    }, this.params.pduTimeoutMs);
  }

  /** Stops reading the socket while the data set's reader has not taken what it was given. */
  private holdForReader(): boolean {
    const stream = this.inbound?.stream;
    if (stream === undefined || stream.destroyed || !stream.writableNeedDrain || this.closing) return false;
    this.holding = true;
    this.socket.pause();
    const go = (): void => {
      stream.removeListener('drain', go);
      stream.removeListener('close', go);
      if (!this.holding) return;
      this.holding = false;
      if (this.closing) return;
      this.socket.resume();
      this.pump();
    };
    stream.once('drain', go);
    stream.once('close', go);
    return true;
  }

  /** A command on a streamed context that announces a data set opens its stream. */
  private openInbound(contextId: number, bytes: Buffer): IncomingDatasetStream | undefined {
    if (this.streamed?.contextIds.has(contextId) !== true || !decodeCommand(bytes).dataSetPresent) {
      return undefined;
    }
    const stream = new PassThrough({ highWaterMark: STREAM_HIGH_WATER_MARK });
    let arrived = (): void => undefined;
    let failed = (_error: UlFailure): void => undefined;
    const received = new Promise<void>((resolve, reject) => {
      arrived = resolve;
      failed = reject;
    });
    // Nobody may be waiting for it when the association fails.
    received.catch(() => undefined);
    this.inbound = { contextId, stream, arrived, failed };
    return { readable: stream, received };
  }

  private onStreamedPdv(inbound: InboundDataset, contextId: number, data: Buffer, control: number): void {
    if (contextId !== inbound.contextId) {
      throw new PduFormatError(
        `a data set fragment on context ${contextId}, its command on ${inbound.contextId}`,
      );
    }
    // A destroyed stream: its reader stopped; the rest is dropped.
    if (!inbound.stream.destroyed) inbound.stream.write(data);
    if ((control & PdvControl.Last) === 0) return;
    this.inbound = undefined;
    if (!inbound.stream.destroyed) inbound.stream.end();
    inbound.arrived();
  }

  /** The association ends inside a streamed data set: its reader must not take it for whole. */
  private endInbound(): void {
    const inbound = this.inbound;
    if (inbound === undefined) return;
    this.inbound = undefined;
    clearTimeout(this.silenceTimer);
    const failure = this.failure ?? { kind: 'closed-by-peer', phase: this.phase };
    inbound.stream.destroy(this.streamed?.toError(failure));
    inbound.failed(new UlFailure(failure));
  }

  private protocolFailure(error: unknown): void {
    const detail = error instanceof PduFormatError || error instanceof Error ? error.message : String(error);
    this.fail({ kind: 'protocol', phase: this.phase, detail, firstBytes: this.firstBytes });
    this.abort();
  }

  private onDatasetPdv(contextId: number, data: Buffer, control: number): void {
    // Only a data set a command announced is kept: others would pile up unread.
    if (contextId !== this.announcedDataset) {
      throw new PduFormatError(`a data set fragment on context ${contextId} that no command announced`);
    }
    this.datasetLength += data.length;
    if (this.datasetLength > MAX_KEPT_DATASET_LENGTH) {
      throw new PduFormatError(`a response data set longer than ${MAX_KEPT_DATASET_LENGTH} bytes`);
    }
    this.datasetFragments.push(data);
    if ((control & PdvControl.Last) === 0) return;
    this.datasets?.push({ contextId, bytes: Buffer.concat(this.datasetFragments) });
    this.datasetFragments = [];
    this.datasetLength = 0;
    this.announcedDataset = undefined;
  }

  private onPdu(pdu: RawPdu): void {
    try {
      switch (pdu.type) {
        case PduType.PDataTf:
          // PS3.8 9.3.1: what we announced bounds what is read before a data set's reader takes it.
          if (pdu.body.length > this.ourMaxPduLength) {
            throw new PduFormatError(
              `a P-DATA-TF of ${pdu.body.length} bytes, past the ${this.ourMaxPduLength} bytes announced`,
            );
          }
          for (const pdv of decodePDataTf(pdu.body)) {
            if ((pdv.control & PdvControl.Command) === 0) {
              if (this.inbound !== undefined) {
                this.onStreamedPdv(this.inbound, pdv.contextId, pdv.data, pdv.control);
              } else if (this.datasets !== undefined) {
                this.onDatasetPdv(pdv.contextId, pdv.data, pdv.control);
              }
              // else dropped unread: a Storage SCP's responses carry none.
              continue;
            }
            if (this.inbound !== undefined) throw new PduFormatError('a command fragment inside a data set');
            this.commandLength += pdv.data.length;
            if (this.commandLength > MAX_COMMAND_SET_LENGTH) {
              throw new PduFormatError(`a command set longer than ${MAX_COMMAND_SET_LENGTH} bytes`);
            }
            this.commandFragments.push(pdv.data);
            if ((pdv.control & PdvControl.Last) !== 0) {
              const bytes = Buffer.concat(this.commandFragments);
              this.commandFragments = [];
              this.commandLength = 0;
              const dataSet = this.openInbound(pdv.contextId, bytes);
              if (
                dataSet === undefined &&
                this.datasets !== undefined &&
                decodeCommand(bytes).dataSetPresent
              ) {
                this.announcedDataset = pdv.contextId;
              }
              this.commands.push({
                contextId: pdv.contextId,
                bytes,
                ...(dataSet === undefined ? {} : { dataSet }),
              });
            }
          }
          this.wake();
          return;
        case PduType.ReleaseRp:
          this.releaseAnswered = true;
          this.wake();
          return;
        case PduType.ReleaseRq:
          // PS3.8 7.2: the acceptor may release too. During our own release (a collision) that
          // ends it as well; before, the exchange waiting for a response ends without one.
          if (this.phase === 'release') this.releaseAnswered = true;
          else this.fail({ kind: 'no-final-response' });
          this.wake();
          this.answerRelease();
          return;
        case PduType.Abort:
          this.fail({ kind: 'association-aborted', phase: this.phase, abort: decodeAbort(pdu.body) });
          this.close();
          return;
        default:
          // PS3.8 9.2 state machine: anything else here is an unexpected PDU; we abort.
          this.protocolFailure(
            new PduFormatError(
              `unexpected PDU type 0x${pdu.type.toString(16)} (${PDU_HEADER_LENGTH + pdu.body.length} bytes)`,
            ),
          );
      }
    } catch (error) {
      this.protocolFailure(error);
    }
  }
}
