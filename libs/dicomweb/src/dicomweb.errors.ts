/** Why a DICOMweb exchange failed; stable strings, safe to log, to put on events and to switch on. */
export enum DicomwebErrorCode {
  /** The endpoint configuration cannot be used (bad URL, missing credential, bad AE title). */
  InvalidConfiguration = 'INVALID_CONFIGURATION',
  /** The query itself is malformed (bad UID, bad filter name, negative limit). */
  InvalidRequest = 'INVALID_REQUEST',
  DnsNotFound = 'DNS_NOT_FOUND',
  ConnectionRefused = 'CONNECTION_REFUSED',
  NetworkUnreachable = 'NETWORK_UNREACHABLE',
  /** The peer closed or reset the connection before a complete answer. */
  ConnectionClosed = 'CONNECTION_CLOSED',
  ConnectTimeout = 'CONNECT_TIMEOUT',
  ResponseTimeout = 'RESPONSE_TIMEOUT',
  TlsSelfSigned = 'TLS_SELF_SIGNED',
  TlsCertificateExpired = 'TLS_CERTIFICATE_EXPIRED',
  TlsCertificateNotYetValid = 'TLS_CERTIFICATE_NOT_YET_VALID',
  TlsHostnameMismatch = 'TLS_HOSTNAME_MISMATCH',
  TlsUntrusted = 'TLS_UNTRUSTED',
  TlsHandshakeFailed = 'TLS_HANDSHAKE_FAILED',
  /** HTTP 401 or 403 from the DICOMweb server. */
  AuthenticationRejected = 'AUTHENTICATION_REJECTED',
  /** HTTP 404: nothing at that path. */
  NotFound = 'NOT_FOUND',
  /** Another 4xx: the server understood the request and refused it. */
  RequestRejected = 'REQUEST_REJECTED',
  /** HTTP 429. */
  RateLimited = 'RATE_LIMITED',
  /** HTTP 5xx. */
  ServerError = 'SERVER_ERROR',
  /** The answer is not DICOMweb: HTML, a redirect to a login page, JSON that is not DICOM JSON, not HTTP. */
  NotDicomweb = 'NOT_DICOMWEB',
  /** A WADO-RS answer's multipart/related framing is broken, or a part is not application/dicom. */
  MalformedMultipart = 'MALFORMED_MULTIPART',
  /** The server stopped in the middle of an answer (connection closed, or the body ended early). */
  ResponseTruncated = 'RESPONSE_TRUNCATED',
  /** The study (or series) to retrieve is not on the server: QIDO-RS does not find it. */
  StudyNotFound = 'STUDY_NOT_FOUND',
  /** The answer exceeded the size this call may hold in memory. */
  ResponseTooLarge = 'RESPONSE_TOO_LARGE',
  /** The OAuth2 token endpoint answered with an error status. */
  TokenEndpointRejected = 'TOKEN_ENDPOINT_REJECTED',
  TokenEndpointUnreachable = 'TOKEN_ENDPOINT_UNREACHABLE',
  /** The OAuth2 token endpoint answered 2xx without a usable bearer token. */
  TokenEndpointInvalidAnswer = 'TOKEN_ENDPOINT_INVALID_ANSWER',
  /** The caller's AbortSignal fired. */
  Aborted = 'ABORTED',
  /**
   * The egress policy refused the address (outside EGRESS_ALLOW_CIDRS, link-local or metadata,
   * pacslink's own broker or database): no connection was opened. The code is @pacslink/egress's.
   */
  EgressRefused = 'EGRESS_REFUSED',
  /** A network failure none of the codes above describes. */
  NetworkError = 'NETWORK_ERROR',
}

/** What failed, in the words of the contract's connection test ("which of DNS, TCP, TLS, auth…"). */
export type DicomwebFailureArea =
  | 'configuration'
  | 'request'
  | 'dns'
  | 'tcp'
  | 'tls'
  | 'timeout'
  | 'auth'
  | 'path'
  | 'server'
  | 'content'
  | 'token-endpoint'
  | 'egress'
  | 'cancelled';

export interface DicomwebErrorDisposition {
  area: DicomwebFailureArea;
  /**
   * Whether the same request may succeed later without anyone changing a configuration: a worker
   * retries these with backoff and dead-letters the others at once.
   */
  retryable: boolean;
}

/** The one exhaustive mapping from a code to what it means for the caller. */
export function dicomwebErrorDisposition(code: DicomwebErrorCode): DicomwebErrorDisposition {
  switch (code) {
    case DicomwebErrorCode.InvalidConfiguration:
      return { area: 'configuration', retryable: false };
    case DicomwebErrorCode.InvalidRequest:
      return { area: 'request', retryable: false };
    case DicomwebErrorCode.DnsNotFound:
      // EAI_AGAIN and a name just being registered both heal by themselves.
      return { area: 'dns', retryable: true };
    case DicomwebErrorCode.ConnectionRefused:
    case DicomwebErrorCode.NetworkUnreachable:
    case DicomwebErrorCode.ConnectionClosed:
    case DicomwebErrorCode.NetworkError:
      return { area: 'tcp', retryable: true };
    case DicomwebErrorCode.ConnectTimeout:
    case DicomwebErrorCode.ResponseTimeout:
      return { area: 'timeout', retryable: true };
    case DicomwebErrorCode.TlsSelfSigned:
    case DicomwebErrorCode.TlsCertificateExpired:
    case DicomwebErrorCode.TlsCertificateNotYetValid:
    case DicomwebErrorCode.TlsHostnameMismatch:
    case DicomwebErrorCode.TlsUntrusted:
    case DicomwebErrorCode.TlsHandshakeFailed:
      return { area: 'tls', retryable: false };
    case DicomwebErrorCode.AuthenticationRejected:
      return { area: 'auth', retryable: false };
    case DicomwebErrorCode.NotFound:
      return { area: 'path', retryable: false };
    case DicomwebErrorCode.RequestRejected:
      return { area: 'request', retryable: false };
    case DicomwebErrorCode.RateLimited:
    case DicomwebErrorCode.ServerError:
      return { area: 'server', retryable: true };
    case DicomwebErrorCode.NotDicomweb:
    case DicomwebErrorCode.ResponseTooLarge:
    case DicomwebErrorCode.MalformedMultipart:
      return { area: 'content', retryable: false };
    case DicomwebErrorCode.ResponseTruncated:
      // A restart or a proxy cutting a long answer; a retry resumes after what was stored.
      return { area: 'tcp', retryable: true };
    case DicomwebErrorCode.StudyNotFound:
      return { area: 'request', retryable: false };
    case DicomwebErrorCode.TokenEndpointRejected:
    case DicomwebErrorCode.TokenEndpointInvalidAnswer:
      return { area: 'token-endpoint', retryable: false };
    case DicomwebErrorCode.TokenEndpointUnreachable:
      return { area: 'token-endpoint', retryable: true };
    case DicomwebErrorCode.Aborted:
      return { area: 'cancelled', retryable: false };
    case DicomwebErrorCode.EgressRefused:
      return { area: 'egress', retryable: false };
  }
}

export interface DicomwebErrorOptions {
  /** The HTTP status that caused it, when there was one (the PACS's or the token endpoint's). */
  httpStatus?: number;
  /** How long the server asked us to wait before trying again (Retry-After, RFC 9110 10.2.3). */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * The only error this library throws. `message` is plain words a person can act on and never holds
 * a password, token, client secret or query value.
 */
export class DicomwebError extends Error {
  override readonly name = 'DicomwebError';
  readonly httpStatus?: number;
  readonly retryAfterMs?: number;

  constructor(
    readonly code: DicomwebErrorCode,
    message: string,
    options: DicomwebErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  get disposition(): DicomwebErrorDisposition {
    return dicomwebErrorDisposition(this.code);
  }
}

export function isDicomwebError(error: unknown, code?: DicomwebErrorCode): error is DicomwebError {
  return error instanceof DicomwebError && (code === undefined || error.code === code);
}

/** Statuses of a gateway or server saying the PACS behind it is not there right now. */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

/**
 * Whether the failure shows the PACS down or out of reach (true): no DNS answer, refused, no route,
 * no connection in time, the connection closed without an HTTP answer, its token endpoint out of
 * reach, or HTTP 502/503/504 (a gateway or server saying the PACS is not available). false: the
 * PACS answered — any other status (429 too: it is up and busy), TLS, a slow, malformed or cut
 * answer (it answered; RESPONSE_TRUNCATED is retried, not counted as the PACS down).
 * undefined: the failure says nothing about the PACS (nothing was sent: configuration, request,
 * cancel, our egress policy, or a network error none of the codes describes). config-service counts
 * the first kind toward the PACS's circuit (docs/decisions/0006-transfers.md, "A circuit per PACS").
 */
export function isUnreachableDicomwebError(error: DicomwebError): boolean | undefined {
  switch (error.code) {
    case DicomwebErrorCode.DnsNotFound:
    case DicomwebErrorCode.ConnectionRefused:
    case DicomwebErrorCode.NetworkUnreachable:
    case DicomwebErrorCode.ConnectTimeout:
    case DicomwebErrorCode.ConnectionClosed:
    case DicomwebErrorCode.TokenEndpointUnreachable:
      return true;
    case DicomwebErrorCode.ServerError:
      return error.httpStatus !== undefined && UNAVAILABLE_STATUSES.has(error.httpStatus);
    case DicomwebErrorCode.ResponseTimeout:
    case DicomwebErrorCode.TlsSelfSigned:
    case DicomwebErrorCode.TlsCertificateExpired:
    case DicomwebErrorCode.TlsCertificateNotYetValid:
    case DicomwebErrorCode.TlsHostnameMismatch:
    case DicomwebErrorCode.TlsUntrusted:
    case DicomwebErrorCode.TlsHandshakeFailed:
    case DicomwebErrorCode.AuthenticationRejected:
    case DicomwebErrorCode.NotFound:
    case DicomwebErrorCode.RequestRejected:
    case DicomwebErrorCode.RateLimited:
    case DicomwebErrorCode.NotDicomweb:
    case DicomwebErrorCode.ResponseTooLarge:
    case DicomwebErrorCode.MalformedMultipart:
    case DicomwebErrorCode.ResponseTruncated:
    case DicomwebErrorCode.StudyNotFound:
    case DicomwebErrorCode.TokenEndpointRejected:
    case DicomwebErrorCode.TokenEndpointInvalidAnswer:
      return false;
    case DicomwebErrorCode.InvalidConfiguration:
    case DicomwebErrorCode.InvalidRequest:
    case DicomwebErrorCode.Aborted:
    case DicomwebErrorCode.EgressRefused:
    case DicomwebErrorCode.NetworkError:
      return undefined;
  }
}
