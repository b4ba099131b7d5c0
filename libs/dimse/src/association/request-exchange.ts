import { toDimseError, type DimseError, type DimseFailure, type FailureContext } from '../dimse.errors';
import {
  connectionOptionsProblem,
  normalizeConnectionOptions,
  type DimseConnectionOptions,
} from '../dimse.options';
import { decodeCommand, type DecodedCommand } from '../store/command-set';
import { serviceName, TransferSyntaxUid, transferSyntaxName } from '../protocol/uids';
import type { ProposedPresentationContext } from '../upper-layer/pdu';
import { UlAssociation, UlFailure, type UlNegotiation } from '../upper-layer/ul-association';

/** The exchange's own presentation context (the first one proposed), as the peer accepted it. */
export interface AcceptedContext {
  id: number;
  transferSyntaxUid: string;
}

/**
 * Ends an exchange with a failure. `releasable`: the exchange is over (a final response came), so
 * the association is released; otherwise more was coming and it is aborted.
 */
export class ExchangeFailure extends Error {
  override readonly name = 'ExchangeFailure';

  constructor(
    readonly failure: DimseFailure,
    readonly releasable: boolean,
  ) {
    super(failure.kind);
  }
}

export interface ExchangeResult<T> {
  value: T;
  /** the exchange aborted the association itself (a peer that ignored C-CANCEL): nothing to release */
  aborted?: boolean;
}

/** One DIMSE service on its presentation context: what it is, and how it talks once accepted. */
export interface RequestExchange<T> {
  command: 'C-ECHO' | 'C-FIND' | 'C-GET' | 'C-MOVE' | 'N-CREATE' | 'N-SET';
  abstractSyntaxUid: string;
  /** proposed after the exchange's own (C-GET: the storage SOP classes of its sub-operations); odd ids from 3 */
  moreContexts?: readonly ProposedPresentationContext[];
  negotiation?: UlNegotiation;
  /**
   * sends the request and reads the responses; throws ExchangeFailure or UlFailure. `describe`
   * maps a failure to the DimseError the call will reject with (for streams ended by it).
   */
  run(
    association: UlAssociation,
    context: AcceptedContext,
    describe: (failure: DimseFailure) => DimseError,
  ): Promise<ExchangeResult<T>>;
}

export const CONTEXT_ID = 1;
/**
 * Implicit VR Little Endian first: the default every peer must accept (PS3.5 10.1). A peer that
 * picks Explicit (Orthanc, PixelMed) works as well: this library encodes and parses identifiers in
 * either (notes trap 13).
 */
const PROPOSED_TRANSFER_SYNTAXES: readonly string[] = [
  TransferSyntaxUid.ImplicitVRLittleEndian,
  TransferSyntaxUid.ExplicitVRLittleEndian,
];

/**
 * The next command set from the peer, which must be the response `responseField` to `messageId`
 * and carry a status; anything else is a protocol error and the association is aborted.
 */
export async function nextResponse(
  association: UlAssociation,
  responseField: number,
  messageId: number,
): Promise<DecodedCommand & { status: number }> {
  return readResponse((await association.nextCommand()).bytes, responseField, messageId);
}

/** A command set from the peer that must be the response `responseField` to `messageId` (see nextResponse). */
export function readResponse(
  bytes: Buffer,
  responseField: number,
  messageId: number,
): DecodedCommand & { status: number } {
  let response: DecodedCommand;
  try {
    response = decodeCommand(bytes);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ExchangeFailure({ kind: 'protocol', phase: 'response', detail }, false);
  }
  const { commandField, messageIdBeingRespondedTo, status } = response;
  if (commandField !== responseField || messageIdBeingRespondedTo !== messageId) {
    const detail = `expected command 0x${responseField.toString(16)} answering message ${messageId}, got command 0x${commandField.toString(16)} answering ${String(messageIdBeingRespondedTo)}`;
    throw new ExchangeFailure({ kind: 'protocol', phase: 'response', detail }, false);
  }
  if (status === undefined) {
    const detail = `a response (command 0x${commandField.toString(16)}) without (0000,0900) Status`;
    throw new ExchangeFailure({ kind: 'protocol', phase: 'response', detail }, false);
  }
  return { ...response, status };
}

/**
 * Opens an association on the project's upper layer (egress check, TCP_NODELAY, a timeout per
 * phase) that proposes one presentation context, runs the exchange on it, releases and closes.
 * A context the peer did not accept is PRESENTATION_CONTEXT_REJECTED (after a normal release),
 * never a silent success. Every failure becomes a DimseError here, through `toDimseError`.
 */
export async function exchangeOnOwnAssociation<T>(
  options: DimseConnectionOptions,
  exchange: RequestExchange<T>,
): Promise<{ value: T; elapsedMs: number }> {
  const { command } = exchange;
  const service = serviceName(exchange.abstractSyntaxUid);
  const problem = connectionOptionsProblem(options);
  if (problem !== undefined) {
    throw toDimseError({ kind: 'invalid-request', problem }, { ...options, command, service });
  }
  const settings = normalizeConnectionOptions(options);
  const { logger } = settings;
  const context: FailureContext = {
    host: settings.host,
    port: settings.port,
    callingAeTitle: settings.callingAeTitle,
    calledAeTitle: settings.calledAeTitle,
    command,
    service,
  };
  const started = performance.now();
  const failed = (failure: DimseFailure): DimseError => {
    const elapsedMs = Math.round(performance.now() - started);
    const error = toDimseError(failure, { ...context, elapsedMs });
    logger?.debug({
      msg: 'DIMSE exchange failed',
      command,
      host: context.host,
      port: context.port,
      calledAeTitle: context.calledAeTitle,
      code: error.code,
      phase: error.details.phase,
      elapsedMs,
    });
    return error;
  };

  let association: UlAssociation;
  try {
    association = await UlAssociation.open(
      settings,
      [
        {
          id: CONTEXT_ID,
          abstractSyntaxUid: exchange.abstractSyntaxUid,
          transferSyntaxUids: PROPOSED_TRANSFER_SYNTAXES,
        },
        ...(exchange.moreContexts ?? []),
      ],
      exchange.negotiation,
    );
  } catch (error) {
    throw error instanceof UlFailure ? failed(error.failure) : error;
  }
  const answer = association.accept.contexts.find((candidate) => candidate.id === CONTEXT_ID);
  logger?.debug({
    msg: 'association accepted',
    command,
    host: context.host,
    port: context.port,
    callingAeTitle: context.callingAeTitle,
    calledAeTitle: context.calledAeTitle,
    transferSyntaxUid: answer?.transferSyntaxUid,
    contextResult: answer?.result,
  });

  let outcome: ExchangeResult<T> | ExchangeFailure;
  if (answer?.result !== 0) {
    outcome = new ExchangeFailure(
      { kind: 'context-rejected', result: answer?.result, abstractSyntaxUid: exchange.abstractSyntaxUid },
      true,
    );
  } else if (
    answer.transferSyntaxUid === undefined ||
    !PROPOSED_TRANSFER_SYNTAXES.includes(answer.transferSyntaxUid)
  ) {
    const detail = `the ${service} context was accepted with ${transferSyntaxName(answer.transferSyntaxUid ?? 'no transfer syntax')}, which was not proposed`;
    outcome = new ExchangeFailure({ kind: 'protocol', phase: 'association', detail }, false);
  } else {
    try {
      outcome = await exchange.run(
        association,
        { id: CONTEXT_ID, transferSyntaxUid: answer.transferSyntaxUid },
        (failure) =>
          toDimseError(failure, { ...context, elapsedMs: Math.round(performance.now() - started) }),
      );
    } catch (error) {
      if (!(error instanceof ExchangeFailure)) {
        association.abort();
        throw error instanceof UlFailure ? failed(error.failure) : error;
      }
      outcome = error;
    }
  }
  if (outcome instanceof ExchangeFailure && !outcome.releasable) {
    association.abort();
    throw failed(outcome.failure);
  }
  if (outcome instanceof ExchangeFailure || outcome.aborted !== true) {
    try {
      await association.release();
    } catch (error) {
      // Every response is in: a peer that went away before our A-RELEASE-RQ changes nothing.
      association.close();
      if (!(error instanceof UlFailure)) throw error;
    }
  }
  if (outcome instanceof ExchangeFailure) throw failed(outcome.failure);
  return { value: outcome.value, elapsedMs: Math.round(performance.now() - started) };
}
