import { STATUS_CODES } from 'node:http';
import { EGRESS_REFUSED } from '@pacslink/egress';
import { hostPortOf, type DicomwebAuthMethod } from './dicomweb-endpoint';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';
import { MULTIPART_TRUNCATED, MultipartError } from './multipart-scanner';

/*
 * The one place where what happened on the wire (an errno, an undici error, a TLS verify code, an
 * HTTP status, an unexpected body) becomes a DicomwebError with a code and plain words.
 */

/** The code of the error a body that did not arrive whole in time is destroyed with (http-body.ts). */
export const BODY_TOO_SLOW = 'PACSLINK_BODY_TOO_SLOW';
/** The whole-answer deadline found the body silent: the server stopped, rather than trickled. */
export const BODY_STALLED = 'PACSLINK_BODY_STALLED';

export interface ConnectionContext {
  /** `host:port` as the request addressed it. */
  hostPort: string;
  hostname: string;
  protocol: 'http:' | 'https:';
  timeoutMs: number;
}

export function connectionContext(url: URL, timeoutMs: number): ConnectionContext {
  return {
    hostPort: hostPortOf(url),
    hostname: url.hostname,
    protocol: url.protocol === 'https:' ? 'https:' : 'http:',
    timeoutMs,
  };
}

interface ErrorFacts {
  code?: string;
  message: string;
  reason?: string;
  certNames?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The first error in the `cause` chain (and AggregateError members) that carries a string code. */
function errorFacts(error: unknown): ErrorFacts {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  let first: ErrorFacts | undefined;
  while (queue.length > 0) {
    const current = queue.shift();
    if (!isRecord(current) || seen.has(current)) continue;
    seen.add(current);
    const message = typeof current.message === 'string' ? current.message : 'unknown error';
    first ??= { message };
    if (typeof current.code === 'string') {
      const cert = isRecord(current.cert) ? current.cert : undefined;
      const subject = cert && isRecord(cert.subject) ? cert.subject : undefined;
      const altNames = typeof cert?.subjectaltname === 'string' ? cert.subjectaltname : undefined;
      const commonName = typeof subject?.CN === 'string' ? `CN=${subject.CN}` : undefined;
      return {
        code: current.code,
        message,
        reason: typeof current.reason === 'string' ? current.reason : undefined,
        certNames: altNames ?? commonName,
      };
    }
    queue.push(current.cause);
    if (Array.isArray(current.errors)) queue.push(...(current.errors as unknown[]));
  }
  return first ?? { message: String(error) };
}

/** Removes every secret (and any `user:password@` in a URL) from text a server or library produced. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text.replace(/\/\/[^/\s@]*:[^/\s@]*@/g, '//***@');
  for (const secret of secrets) {
    if (secret !== '') result = result.split(secret).join('***');
  }
  return result;
}

const TLS_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
]);

/**
 * Maps a failure to reach the server or to read its answer. `secrets` are scrubbed from any
 * library message that ends up in the text.
 */
export function networkFailure(
  error: unknown,
  context: ConnectionContext,
  secrets: readonly string[] = [],
): DicomwebError {
  if (error instanceof DicomwebError) return error;
  const { hostPort, hostname, protocol, timeoutMs } = context;
  const facts = errorFacts(error);
  const make = (code: DicomwebErrorCode, message: string): DicomwebError =>
    new DicomwebError(code, message, { cause: error });
  const code = facts.code ?? '';
  switch (code) {
    case 'ENOTFOUND':
      return make(DicomwebErrorCode.DnsNotFound, `host ${hostname} not found (DNS)`);
    case 'EAI_AGAIN':
      return make(
        DicomwebErrorCode.DnsNotFound,
        `host ${hostname} not found (DNS: the name server did not answer, EAI_AGAIN)`,
      );
    case 'ECONNREFUSED':
      return make(
        DicomwebErrorCode.ConnectionRefused,
        `connection refused by ${hostPort} — nothing listens on that port, or a firewall rejects it`,
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return make(DicomwebErrorCode.NetworkUnreachable, `${hostPort} is unreachable (${code}: no route)`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return make(
        DicomwebErrorCode.ConnectionClosed,
        `${hostPort} closed the connection without an HTTP answer — is it the HTTP${protocol === 'http:' ? '' : 'S'} port of a DICOMweb service` +
          `${protocol === 'http:' ? ' (or an HTTPS port, then use https://)' : ''}?`,
      );
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return make(
        DicomwebErrorCode.ConnectTimeout,
        `no connection to ${hostPort} within ${timeoutMs} ms (connect timeout) — host down, or a firewall drops the packets`,
      );
    case 'UND_ERR_HEADERS_TIMEOUT':
      return make(
        DicomwebErrorCode.ResponseTimeout,
        `connected to ${hostPort}, but no answer within ${timeoutMs} ms (response timeout)`,
      );
    case 'UND_ERR_BODY_TIMEOUT':
    case BODY_STALLED:
      return make(
        DicomwebErrorCode.ResponseTimeout,
        `${hostPort} stopped sending its answer for ${timeoutMs} ms (response timeout)`,
      );
    case BODY_TOO_SLOW:
      return make(
        DicomwebErrorCode.ResponseTimeout,
        `${hostPort} did not finish sending its answer within ${timeoutMs} ms (response timeout): it trickles it`,
      );
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return make(
        DicomwebErrorCode.TlsSelfSigned,
        `TLS: self-signed certificate presented by ${hostPort} — not trusted; add it to the trusted certificates`,
      );
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return make(
        DicomwebErrorCode.TlsSelfSigned,
        `TLS: self-signed certificate in the chain presented by ${hostPort} — its root CA is not trusted`,
      );
    case 'CERT_HAS_EXPIRED':
      return make(DicomwebErrorCode.TlsCertificateExpired, `TLS: the certificate of ${hostPort} has expired`);
    case 'CERT_NOT_YET_VALID':
      return make(
        DicomwebErrorCode.TlsCertificateNotYetValid,
        `TLS: the certificate of ${hostPort} is not valid yet — check the clocks`,
      );
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return make(
        DicomwebErrorCode.TlsHostnameMismatch,
        `TLS: hostname mismatch — the certificate of ${hostPort} is not valid for ${hostname}` +
          (facts.certNames ? ` (it names ${facts.certNames})` : ''),
      );
    case EGRESS_REFUSED:
      // EgressRefusedError's message names host:port, the address and the rule.
      return make(DicomwebErrorCode.EgressRefused, facts.message);
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return make(DicomwebErrorCode.Aborted, 'the request was cancelled');
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return make(
        DicomwebErrorCode.NotDicomweb,
        `not a DICOMweb endpoint: ${hostPort} sent a malformed HTTP answer (${facts.message})`,
      );
    default:
      break;
  }
  if (TLS_UNTRUSTED.has(code)) {
    return make(
      DicomwebErrorCode.TlsUntrusted,
      `TLS: the certificate of ${hostPort} is not trusted (${facts.message})`,
    );
  }
  if (code.startsWith('HPE_')) {
    return make(
      DicomwebErrorCode.NotDicomweb,
      `not a DICOMweb endpoint: ${hostPort} does not answer in HTTP (${code}) — is it a DICOM (DIMSE) port?`,
    );
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return make(
      DicomwebErrorCode.TlsHandshakeFailed,
      `TLS handshake with ${hostPort} failed (wrong version number) — is it a plain-HTTP port? then use http://`,
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') {
    const reason = facts.reason ?? facts.message.split('\n')[0];
    return make(
      DicomwebErrorCode.TlsHandshakeFailed,
      `TLS handshake with ${hostPort} failed (${redact(reason, secrets)})`,
    );
  }
  if (isRecord(error) && error.name === 'AbortError') {
    return make(DicomwebErrorCode.Aborted, 'the request was cancelled');
  }
  return make(
    DicomwebErrorCode.NetworkError,
    `request to ${hostPort} failed: ${redact(facts.message, secrets)}${code ? ` (${code})` : ''}`,
  );
}

/** What a response looked like, for messages; built from at most the first few KiB of its body. */
export interface ResponseFacts {
  status: number;
  contentType?: string;
  /** The first characters of the body, redacted and quoted (quotePeerText); empty when there was none. */
  snippet: string;
  /** HTML <title>, quoted (quotePeerText), when the body is an HTML page; empty when it has none. */
  htmlTitle?: string;
  location?: string;
  wwwAuthenticate?: string;
}

export interface StatusContext {
  /** The endpoint's base URL for messages (no credentials, no query). */
  serviceUrl: string;
  origin: string;
  authMethod: DicomwebAuthMethod;
}

export function statusLine(status: number): string {
  const phrase = STATUS_CODES[status];
  return phrase ? `HTTP ${status} ${phrase}` : `HTTP ${status}`;
}

function credentialHint(method: DicomwebAuthMethod, wwwAuthenticate?: string): string {
  switch (method) {
    case 'none': {
      const scheme = wwwAuthenticate?.trim().split(/\s+/)[0];
      return `the server requires credentials${scheme ? ` (it asks for ${scheme})` : ''} and none are configured`;
    }
    case 'basic':
      return 'check the username/password';
    case 'bearer':
      return 'check the token';
    case 'oauth2-client-credentials':
      return 'check the client credentials and scope (the PACS refused a token fresh from the token endpoint)';
  }
}

function htmlPage(title: string | undefined): string {
  if (title === undefined) return '';
  if (title === '') return ' (an HTML page)';
  const login = /log\s*-?in|sign\s*-?in|anmeld|connexion/i.test(title) ? ', a login page' : '';
  return ` (an HTML page titled ${title}${login})`;
}

/** Describes a body that is not what was expected: its content type and its first bytes. */
export function describeBody(facts: Pick<ResponseFacts, 'contentType' | 'snippet' | 'htmlTitle'>): string {
  const type = facts.contentType ?? 'no content type';
  if (facts.snippet === '') return `an empty body (${type})`;
  return `${type}${htmlPage(facts.htmlTitle)}: ${facts.snippet}`;
}

/**
 * Maps any status a QIDO-RS query must not get (everything but 200 and 204). 2xx other than those,
 * and redirects, are "not a DICOMweb endpoint": a login redirect is the usual way a web portal
 * answers in place of a PACS. Redirects are not followed: credentials stay with the configured origin.
 */
export function httpStatusFailure(facts: ResponseFacts, context: StatusContext): DicomwebError {
  const { status } = facts;
  const make = (code: DicomwebErrorCode, message: string): DicomwebError =>
    new DicomwebError(code, message, { httpStatus: status });
  const line = statusLine(status);
  const withText = facts.snippet !== '' && facts.htmlTitle === undefined ? `: ${facts.snippet}` : '';
  if (status === 401 || status === 403) {
    return make(
      DicomwebErrorCode.AuthenticationRejected,
      `authentication rejected (HTTP ${status}) — ${credentialHint(context.authMethod, facts.wwwAuthenticate)}`,
    );
  }
  if (status === 404 || status === 410) {
    const example =
      context.serviceUrl === context.origin
        ? `${context.origin}/dicom-web`
        : `${context.origin}/dicom-web or ${context.origin}/dcm4chee-arc/aets/DCM4CHEE/rs`;
    return make(
      DicomwebErrorCode.NotFound,
      `no DICOMweb service at ${context.serviceUrl} (HTTP ${status}) — check the URL path, e.g. ${example}`,
    );
  }
  if (status === 406 || status === 415) {
    return make(
      DicomwebErrorCode.NotDicomweb,
      `not a DICOMweb endpoint: the server will not answer application/dicom+json (${line})`,
    );
  }
  if (status === 429) {
    return make(DicomwebErrorCode.RateLimited, `the server is busy (${line}) — try again later`);
  }
  if (status >= 500 && status <= 599) {
    return make(DicomwebErrorCode.ServerError, `the server failed (${line})${withText}`);
  }
  if (status >= 400 && status <= 499) {
    return make(DicomwebErrorCode.RequestRejected, `the server refused the query (${line})${withText}`);
  }
  if (status >= 300 && status <= 399) {
    const target = facts.location ? ` to ${facts.location}` : '';
    return make(
      DicomwebErrorCode.NotDicomweb,
      `not a DICOMweb endpoint: the server redirects (HTTP ${status})${target} — a login page? configure the DICOMweb service URL itself`,
    );
  }
  return make(
    DicomwebErrorCode.NotDicomweb,
    `not a DICOMweb endpoint: unexpected ${line} to a QIDO-RS query, ${describeBody(facts)}`,
  );
}

/** Where a WADO-RS answer was when it failed, for messages. */
export interface RetrieveProgress {
  /** What was asked: `series 1.2.3` or `instance 1.2.3`. */
  target: string;
  /** Parts whose headers were read. */
  parts: number;
  inPart: boolean;
}

/**
 * Maps a failure while a WADO-RS multipart body streams in: broken framing (multipart-scanner.ts),
 * a body that ended or a connection that closed before the close delimiter (the server stopped
 * half-way), or anything networkFailure knows (body timeout, cancel).
 */
export function retrieveBodyFailure(
  error: unknown,
  context: ConnectionContext,
  progress: RetrieveProgress,
  secrets: readonly string[] = [],
): DicomwebError {
  if (error instanceof DicomwebError) return error;
  const where = `${progress.parts} part${progress.parts === 1 ? '' : 's'} into the answer for ${progress.target}${progress.inPart ? ', in the middle of a part' : ''}`;
  if (error instanceof MultipartError) {
    return error.code === MULTIPART_TRUNCATED
      ? new DicomwebError(
          DicomwebErrorCode.ResponseTruncated,
          `${context.hostPort} stopped half-way: ${error.message} (${where})`,
          { cause: error },
        )
      : new DicomwebError(
          DicomwebErrorCode.MalformedMultipart,
          `the WADO-RS answer of ${context.hostPort} is not valid multipart/related: ${error.message} (${where})`,
          { cause: error },
        );
  }
  const mapped = networkFailure(error, context, secrets);
  if (mapped.code !== DicomwebErrorCode.ConnectionClosed) return mapped;
  return new DicomwebError(
    DicomwebErrorCode.ResponseTruncated,
    `${context.hostPort} closed the connection half-way (${where})`,
    { cause: error },
  );
}

/** A part whose Content-Type is not application/dicom: the server answers something else. */
export function unexpectedPartFailure(contentType: string, progress: RetrieveProgress): DicomwebError {
  return new DicomwebError(
    DicomwebErrorCode.MalformedMultipart,
    `part ${progress.parts} of the WADO-RS answer for ${progress.target} is ${contentType}, not application/dicom`,
  );
}

/**
 * Maps a WADO-RS answer that is not 200/206 multipart/related. QIDO-RS found the study at the same
 * base URL just before, so a 404 means the server no longer holds what was asked (or offers no
 * WADO-RS); 406: none of the transfer syntaxes asked for.
 */
export function retrieveStatusFailure(
  facts: ResponseFacts,
  context: StatusContext,
  target: string,
): DicomwebError {
  const { status } = facts;
  if (status === 404 || status === 410) {
    return new DicomwebError(
      DicomwebErrorCode.StudyNotFound,
      `WADO-RS: the server answers ${statusLine(status)} for ${target}, which QIDO-RS listed — deleted meanwhile, or the server offers no WADO-RS at ${context.serviceUrl}`,
      { httpStatus: status },
    );
  }
  if (status === 406) {
    return new DicomwebError(
      DicomwebErrorCode.RequestRejected,
      `WADO-RS: the server cannot send ${target} in any of the transfer syntaxes asked for (${statusLine(status)})`,
      { httpStatus: status },
    );
  }
  if (status >= 200 && status <= 299) {
    return new DicomwebError(
      DicomwebErrorCode.NotDicomweb,
      `not a DICOMweb endpoint: WADO-RS answered ${statusLine(status)} for ${target} with ${describeBody(facts)}, not multipart/related`,
      { httpStatus: status },
    );
  }
  return httpStatusFailure(facts, context);
}
