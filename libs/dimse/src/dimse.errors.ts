import { hexTag, quotePeerText } from '@pacslink/dicom';
import {
  describeAbort,
  describeAssociateReject,
  describePresentationContextResult,
  rejectHint,
  type AbortInfo,
  type AssociateReject,
} from './protocol/association-reject';
import { formatStatus } from './protocol/status';
import { serviceName } from './protocol/uids';
import type { SubOperationCounts } from './store/command-set';

export enum DimseErrorCode {
  /** the call itself is unusable (options, query keys); nothing was sent */
  INVALID_REQUEST = 'INVALID_REQUEST',
  CONNECTION_REFUSED = 'CONNECTION_REFUSED',
  HOST_NOT_FOUND = 'HOST_NOT_FOUND',
  HOST_UNREACHABLE = 'HOST_UNREACHABLE',
  TIMEOUT = 'TIMEOUT',
  /** the peer closed or reset the connection without a DICOM reason (no A-ABORT, no A-ASSOCIATE-RJ) */
  CONNECTION_LOST = 'CONNECTION_LOST',
  ASSOCIATION_REJECTED = 'ASSOCIATION_REJECTED',
  ASSOCIATION_ABORTED = 'ASSOCIATION_ABORTED',
  PRESENTATION_CONTEXT_REJECTED = 'PRESENTATION_CONTEXT_REJECTED',
  NO_RESPONSE = 'NO_RESPONSE',
  STATUS_FAILURE = 'STATUS_FAILURE',
  PROTOCOL_ERROR = 'PROTOCOL_ERROR',
  /** the caller's AbortSignal stopped the exchange (after the request in flight, then released) */
  CANCELLED = 'CANCELLED',
  /**
   * a C-GET ended with sub-operations reported completed that never arrived on the association: a
   * PACS that does not really do C-GET (its instances went elsewhere, or nowhere)
   */
  INSTANCES_NOT_RECEIVED = 'INSTANCES_NOT_RECEIVED',
  /**
   * the egress policy refused the peer's address (outside EGRESS_ALLOW_CIDRS, link-local or
   * metadata, pacslink's own broker or database): no connection was opened. @pacslink/egress's code.
   */
  EGRESS_REFUSED = 'EGRESS_REFUSED',
}

/** Where in the life of an association something happened. */
export type AssociationPhase = 'connect' | 'association' | 'response' | 'release';

export interface DimseErrorDetails {
  phase?: AssociationPhase;
  timeoutMs?: number;
  /** Node's error code, e.g. ECONNREFUSED */
  socketErrorCode?: string;
  reject?: AssociateReject;
  abort?: AbortInfo;
  presentationContextResult?: number;
  /** PRESENTATION_CONTEXT_REJECTED: the SOP class refused, e.g. Study Root GET for a PACS without C-GET */
  abstractSyntaxUid?: string;
  status?: number;
  errorComment?: string;
  /** C-GET / C-MOVE: the sub-operation counts of the last response */
  subOperations?: SubOperationCounts;
  /** C-GET / C-MOVE: (0008,0058) of a final response with failures */
  failedSopInstanceUids?: readonly string[];
  /** N-CREATE / N-SET: the attributes a failure names ((0000,0901), (0000,1005)), as `00100010` */
  attributes?: readonly string[];
  /** from the start of the call to the failure */
  elapsedMs?: number;
}

/** A failed DIMSE exchange: `code` for programs, `message` for people. */
export class DimseError extends Error {
  override readonly name = 'DimseError';

  constructor(
    readonly code: DimseErrorCode,
    message: string,
    readonly details: Readonly<DimseErrorDetails> = {},
  ) {
    super(message);
  }
}

/** What went wrong, as observed; turned into a DimseError by `toDimseError` only. */
export type DimseFailure =
  | { kind: 'invalid-request'; problem: string }
  | { kind: 'socket-error'; phase: AssociationPhase; errorCode: string | undefined; message: string }
  | { kind: 'timeout'; phase: AssociationPhase; timeoutMs: number }
  | { kind: 'closed-by-peer'; phase: AssociationPhase }
  | { kind: 'association-rejected'; reject: AssociateReject }
  | { kind: 'association-aborted'; phase: AssociationPhase; abort: AbortInfo }
  | { kind: 'context-rejected'; result: number | undefined; abstractSyntaxUid?: string }
  | { kind: 'no-final-response' }
  | {
      kind: 'status';
      status: number;
      errorComment?: string;
      subOperations?: SubOperationCounts;
      failedSopInstanceUids?: readonly string[];
      attributes?: readonly string[];
    }
  | { kind: 'protocol'; phase: AssociationPhase; detail: string; firstBytes?: Buffer }
  | { kind: 'cancelled'; detail: string; subOperations?: SubOperationCounts }
  | {
      kind: 'instances-not-received';
      received: number;
      subOperations: SubOperationCounts;
      /** whether the peer granted us the SCP role of any storage SOP class (PS3.7 D.3.3.4) */
      scpRoleGranted: boolean;
    }
  | { kind: 'egress-refused'; detail: string };

/** Who was called, and for what; the words of every message come from here. */
export interface FailureContext {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  /** 'C-ECHO', 'C-FIND', 'C-GET', … */
  command: string;
  /** 'Verification', 'Study Root Query/Retrieve (C-FIND)' */
  service: string;
  elapsedMs?: number;
}

const TIMEOUT_HINTS: Readonly<Record<AssociationPhase, (context: FailureContext) => string>> = {
  connect: (c) =>
    `no TCP connection to ${c.host}:${c.port} (wrong host or port, or a firewall dropping packets?)`,
  association: (c) =>
    `${c.host}:${c.port} accepted the TCP connection but never answered the association request (is it a DICOM port?)`,
  response: (c) => `the PACS accepted the association but did not answer the ${c.command} request`,
  release: () => 'the PACS did not answer the release request',
};

const CLOSED_HINTS: Readonly<Record<AssociationPhase, (context: FailureContext) => string>> = {
  connect: (c) => `the connection to ${c.host}:${c.port} closed before it was established`,
  association: (c) =>
    `${c.host}:${c.port} closed the connection without answering the association request (is it a DICOM port, or does it require TLS?)`,
  response: (c) => `the PACS closed the connection before answering the ${c.command} request`,
  release: () => 'the PACS closed the connection during the release',
};

function socketErrorToDimseError(
  failure: Extract<DimseFailure, { kind: 'socket-error' }>,
  c: FailureContext,
): [DimseErrorCode, string] {
  const where = `${c.host}:${c.port}`;
  switch (failure.errorCode) {
    case 'ECONNREFUSED':
      return [DimseErrorCode.CONNECTION_REFUSED, `connection refused by ${where} — nothing listens there`];
    case 'ENOTFOUND':
      return [DimseErrorCode.HOST_NOT_FOUND, `host ${c.host} not found (DNS)`];
    case 'EAI_AGAIN':
      return [
        DimseErrorCode.HOST_NOT_FOUND,
        `host ${c.host} could not be resolved (DNS lookup failed temporarily: EAI_AGAIN)`,
      ];
    case 'EHOSTUNREACH':
    case 'EHOSTDOWN':
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return [
        DimseErrorCode.HOST_UNREACHABLE,
        `host ${c.host} is unreachable (${failure.errorCode}): no network route to it`,
      ];
    case 'ETIMEDOUT':
      return [DimseErrorCode.TIMEOUT, `the TCP connection to ${where} timed out (ETIMEDOUT)`];
    case 'ECONNRESET':
    case 'EPIPE':
      return [
        DimseErrorCode.CONNECTION_LOST,
        `the connection to ${where} was reset by the peer (${failure.errorCode}) during the ${failure.phase}`,
      ];
    case undefined:
    default:
      return [
        DimseErrorCode.CONNECTION_LOST,
        `network error with ${where} during the ${failure.phase}: ${failure.errorCode ?? 'no code'} ${failure.message}`.trim(),
      ];
  }
}

function looksLikeHttp(bytes: Buffer | undefined): boolean {
  return bytes !== undefined && bytes.subarray(0, 5).toString('latin1') === 'HTTP/';
}

/** The one mapping from an observed failure to a code and a message a person can act on. */
export function toDimseError(failure: DimseFailure, c: FailureContext): DimseError {
  const elapsed = c.elapsedMs === undefined ? {} : { elapsedMs: c.elapsedMs };
  switch (failure.kind) {
    case 'invalid-request':
      return new DimseError(DimseErrorCode.INVALID_REQUEST, failure.problem, elapsed);
    case 'socket-error': {
      const [code, message] = socketErrorToDimseError(failure, c);
      return new DimseError(code, message, {
        phase: failure.phase,
        socketErrorCode: failure.errorCode,
        ...elapsed,
      });
    }
    case 'timeout':
      return new DimseError(
        DimseErrorCode.TIMEOUT,
        `no answer within ${failure.timeoutMs} ms (${failure.phase}): ${TIMEOUT_HINTS[failure.phase](c)}`,
        { phase: failure.phase, timeoutMs: failure.timeoutMs, ...elapsed },
      );
    case 'closed-by-peer':
      return new DimseError(DimseErrorCode.CONNECTION_LOST, CLOSED_HINTS[failure.phase](c), {
        phase: failure.phase,
        ...elapsed,
      });
    case 'association-rejected': {
      const hint = rejectHint(failure.reject, c);
      return new DimseError(
        DimseErrorCode.ASSOCIATION_REJECTED,
        describeAssociateReject(failure.reject) + (hint === undefined ? '' : ` — ${hint}`),
        { phase: 'association', reject: failure.reject, ...elapsed },
      );
    }
    case 'association-aborted': {
      // PS3.8 7.3: a service-user abort after the association is accepted is the PACS refusing the
      // request itself; Orthanc, for one, aborts a C-FIND from a calling AE it does not know.
      const hint =
        failure.phase === 'response' && failure.abort.source === 0
          ? ` during the ${c.command} — a PACS does this e.g. when calling AE title ${c.callingAeTitle} may not use ${c.service}`
          : ` during the ${failure.phase}`;
      return new DimseError(DimseErrorCode.ASSOCIATION_ABORTED, describeAbort(failure.abort) + hint, {
        phase: failure.phase,
        abort: failure.abort,
        ...elapsed,
      });
    }
    case 'context-rejected':
      return new DimseError(
        DimseErrorCode.PRESENTATION_CONTEXT_REJECTED,
        `the PACS does not accept ${failure.abstractSyntaxUid === undefined ? c.service : serviceName(failure.abstractSyntaxUid)} (presentation context rejected: ${describePresentationContextResult(failure.result)})`,
        {
          phase: 'association',
          presentationContextResult: failure.result,
          ...(failure.abstractSyntaxUid === undefined
            ? {}
            : { abstractSyntaxUid: failure.abstractSyntaxUid }),
          ...elapsed,
        },
      );
    case 'no-final-response':
      return new DimseError(
        DimseErrorCode.NO_RESPONSE,
        `the PACS ended the association without a final ${c.command} response`,
        { phase: 'response', ...elapsed },
      );
    case 'status':
      return new DimseError(
        DimseErrorCode.STATUS_FAILURE,
        // The ErrorComment is the PACS's own words: quoted, bounded (it may name the patient).
        `${c.command} answered status ${formatStatus(failure.status)}` +
          (failure.attributes === undefined ? '' : ` for ${failure.attributes.map(hexTag).join(', ')}`) +
          (failure.errorComment ? `: ${quotePeerText(failure.errorComment)}` : ''),
        {
          phase: 'response',
          status: failure.status,
          errorComment: failure.errorComment,
          ...(failure.subOperations === undefined ? {} : { subOperations: failure.subOperations }),
          ...(failure.failedSopInstanceUids === undefined
            ? {}
            : { failedSopInstanceUids: failure.failedSopInstanceUids }),
          ...(failure.attributes === undefined ? {} : { attributes: failure.attributes }),
          ...elapsed,
        },
      );
    case 'protocol':
      return new DimseError(
        DimseErrorCode.PROTOCOL_ERROR,
        looksLikeHttp(failure.firstBytes)
          ? `${c.host}:${c.port} answered like an HTTP server, not a DICOM peer (is ${c.port} its HTTP port?)`
          : `${c.host}:${c.port} sent data this client cannot read during the ${failure.phase}: ${failure.detail}`,
        { phase: failure.phase, ...elapsed },
      );
    case 'cancelled':
      return new DimseError(DimseErrorCode.CANCELLED, `${c.command} cancelled: ${failure.detail}`, {
        ...(failure.subOperations === undefined ? {} : { subOperations: failure.subOperations }),
        ...elapsed,
      });
    case 'instances-not-received': {
      const { completed = 0, warning = 0 } = failure.subOperations;
      return new DimseError(
        DimseErrorCode.INSTANCES_NOT_RECEIVED,
        `the PACS reported ${completed + warning} ${c.command} sub-operations completed but sent ${failure.received} instances on this association` +
          (failure.scpRoleGranted
            ? ''
            : ' (it granted us the SCP role of no storage SOP class: it may not send C-GET sub-operations at all)'),
        { phase: 'response', subOperations: failure.subOperations, ...elapsed },
      );
    }
    case 'egress-refused':
      // The guard's sentence names host:port, the address and the rule.
      return new DimseError(DimseErrorCode.EGRESS_REFUSED, failure.detail, { phase: 'connect', ...elapsed });
  }
}

/**
 * Whether trying again later may succeed without anyone changing a configuration: what a worker
 * needs to choose between retry with backoff and dead-letter.
 */
export function isTransientDimseError(error: DimseError): boolean {
  switch (error.code) {
    case DimseErrorCode.CONNECTION_REFUSED:
    case DimseErrorCode.HOST_UNREACHABLE:
    case DimseErrorCode.TIMEOUT:
    case DimseErrorCode.CONNECTION_LOST:
    case DimseErrorCode.ASSOCIATION_ABORTED:
    case DimseErrorCode.NO_RESPONSE:
      return true;
    case DimseErrorCode.HOST_NOT_FOUND:
      return error.details.socketErrorCode === 'EAI_AGAIN';
    case DimseErrorCode.ASSOCIATION_REJECTED:
      return error.details.reject?.result === 2;
    case DimseErrorCode.STATUS_FAILURE:
      // A7xx: out of resources
      return error.details.status !== undefined && (error.details.status & 0xff00) === 0xa700;
    case DimseErrorCode.INVALID_REQUEST:
    case DimseErrorCode.PRESENTATION_CONTEXT_REJECTED:
    case DimseErrorCode.PROTOCOL_ERROR:
    case DimseErrorCode.CANCELLED:
    case DimseErrorCode.EGRESS_REFUSED:
    case DimseErrorCode.INSTANCES_NOT_RECEIVED:
      return false;
  }
}

/**
 * Whether the failure shows the PACS down or out of reach (true): refused, no route, its name not
 * resolving, no TCP connection or no answer to the association request in time, the connection
 * closed before that answer. false: the PACS answered — it rejected or aborted the association
 * (rejected-transient included: it is up and busy), answered a status, or accepted the association
 * and was then slow or went away. undefined: the failure says nothing about the PACS (nothing was
 * sent: an invalid request, a cancel, our egress policy). config-service counts the first kind
 * toward the PACS's circuit (docs/decisions/0006-transfers.md, "A circuit per PACS").
 */
export function isUnreachableDimseError(error: DimseError): boolean | undefined {
  switch (error.code) {
    case DimseErrorCode.CONNECTION_REFUSED:
    case DimseErrorCode.HOST_NOT_FOUND:
    case DimseErrorCode.HOST_UNREACHABLE:
      return true;
    case DimseErrorCode.TIMEOUT:
    case DimseErrorCode.CONNECTION_LOST:
      return error.details.phase === 'connect' || error.details.phase === 'association';
    case DimseErrorCode.ASSOCIATION_REJECTED:
    case DimseErrorCode.ASSOCIATION_ABORTED:
    case DimseErrorCode.PRESENTATION_CONTEXT_REJECTED:
    case DimseErrorCode.NO_RESPONSE:
    case DimseErrorCode.STATUS_FAILURE:
    case DimseErrorCode.PROTOCOL_ERROR:
    case DimseErrorCode.INSTANCES_NOT_RECEIVED:
      return false;
    case DimseErrorCode.INVALID_REQUEST:
    case DimseErrorCode.CANCELLED:
    case DimseErrorCode.EGRESS_REFUSED:
      return undefined;
  }
}
