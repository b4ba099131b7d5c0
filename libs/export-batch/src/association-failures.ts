import { Counter, type Registry } from 'prom-client';
import type { ExportBatchFailureData } from '@pacslink/contracts';

/** Why a worker could not talk to a PACS: a closed set, so the metric's series stay few. */
export const AssociationFailureReasons = [
  'dns',
  'refused',
  'unreachable',
  'timeout',
  'connection_lost',
  'rejected',
  'aborted',
  'protocol',
  'tls',
  'auth',
  'http_4xx',
  'http_5xx',
  'rate_limited',
  'egress_refused',
  'network',
] as const;
export type AssociationFailureReason = (typeof AssociationFailureReasons)[number];

/**
 * The reason of each error code the workers classify a failure with (DimseErrorCode of
 * @pacslink/dimse, DicomwebErrorCode of @pacslink/dicomweb; the spec checks both enums are covered).
 * null: not a failure to talk to the PACS (our own request or configuration, the PACS refusing
 * instances on an association it accepted, a stop we asked for) and not counted.
 */
export const ASSOCIATION_FAILURE_REASON_OF_CODE: Readonly<Record<string, AssociationFailureReason | null>> = {
  // DIMSE (PS3.8: the upper layer's answers; PS3.7: the operation's)
  CONNECTION_REFUSED: 'refused',
  HOST_NOT_FOUND: 'dns',
  HOST_UNREACHABLE: 'unreachable',
  TIMEOUT: 'timeout',
  NO_RESPONSE: 'timeout',
  CONNECTION_LOST: 'connection_lost',
  ASSOCIATION_REJECTED: 'rejected',
  PRESENTATION_CONTEXT_REJECTED: 'rejected',
  ASSOCIATION_ABORTED: 'aborted',
  PROTOCOL_ERROR: 'protocol',
  EGRESS_REFUSED: 'egress_refused',
  INVALID_REQUEST: null,
  STATUS_FAILURE: null,
  INSTANCES_NOT_RECEIVED: null,
  CANCELLED: null,
  // DICOMweb (HTTP)
  DNS_NOT_FOUND: 'dns',
  NETWORK_UNREACHABLE: 'unreachable',
  CONNECTION_CLOSED: 'connection_lost',
  RESPONSE_TRUNCATED: 'connection_lost',
  CONNECT_TIMEOUT: 'timeout',
  RESPONSE_TIMEOUT: 'timeout',
  TLS_SELF_SIGNED: 'tls',
  TLS_CERTIFICATE_EXPIRED: 'tls',
  TLS_CERTIFICATE_NOT_YET_VALID: 'tls',
  TLS_HOSTNAME_MISMATCH: 'tls',
  TLS_UNTRUSTED: 'tls',
  TLS_HANDSHAKE_FAILED: 'tls',
  AUTHENTICATION_REJECTED: 'auth',
  TOKEN_ENDPOINT_REJECTED: 'auth',
  TOKEN_ENDPOINT_UNREACHABLE: 'auth',
  TOKEN_ENDPOINT_INVALID_ANSWER: 'auth',
  NOT_FOUND: 'http_4xx',
  REQUEST_REJECTED: 'http_4xx',
  RATE_LIMITED: 'rate_limited',
  SERVER_ERROR: 'http_5xx',
  NOT_DICOMWEB: 'protocol',
  MALFORMED_MULTIPART: 'protocol',
  RESPONSE_TOO_LARGE: 'protocol',
  NETWORK_ERROR: 'network',
  INVALID_CONFIGURATION: null,
  STUDY_NOT_FOUND: null,
  ABORTED: null,
};

/** The failure's reason, or undefined when it is not a failure to talk to the PACS (or has no code). */
export function associationFailureReason(
  failure: ExportBatchFailureData,
): AssociationFailureReason | undefined {
  if (failure.code === undefined) return undefined;
  return ASSOCIATION_FAILURE_REASON_OF_CODE[failure.code] ?? undefined;
}

/**
 * `pacslink_association_failures_total{pacs_config,reason}`: batches a worker could not run because
 * it could not talk to the PACS (an association or an HTTP exchange failed), by reason.
 * `pacs_config` is the configuration's id from the command, `unknown` when the command has none.
 */
export class AssociationFailureCounter {
  private readonly counter: Counter<'pacs_config' | 'reason'>;

  constructor(registry: Registry) {
    this.counter = new Counter({
      name: 'pacslink_association_failures_total',
      help: 'Batches stopped because the PACS could not be talked to (association or HTTP exchange), by PACS configuration id and reason',
      labelNames: ['pacs_config', 'reason'],
      registers: [registry],
    });
  }

  record(pacsConfigId: string | undefined, failure: ExportBatchFailureData): void {
    const reason = associationFailureReason(failure);
    if (reason !== undefined) this.counter.inc({ pacs_config: pacsConfigId ?? 'unknown', reason });
  }
}
