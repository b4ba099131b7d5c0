import { aeTitleProblem, normalizeAeTitle } from '@pacslink/dicom';
import { createHash } from 'node:crypto';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';

/** How the client authenticates to the DICOMweb server (the contract's `auth` variants). */
export type DicomwebAuth =
  | { method: 'none' }
  | { method: 'basic'; username: string; password: string }
  | { method: 'bearer'; token: string }
  | {
      method: 'oauth2-client-credentials';
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      /** Space-separated scopes (RFC 6749 3.3); omitted from the token request when unset. */
      scope?: string;
      /**
       * RFC 6749 2.3.1: `client_secret_basic` (default; HTTP Basic with form-urlencoded id and
       * secret) or `client_secret_post` (id and secret in the form body).
       */
      clientAuthentication?: 'client_secret_basic' | 'client_secret_post';
    };

export type DicomwebAuthMethod = DicomwebAuth['method'];

export interface DicomwebTlsOptions {
  /**
   * PEM certificates of CAs trusted for this server, in addition to Node's bundled roots (a hospital
   * CA, or a PACS's self-signed certificate). Not applied to the OAuth2 token endpoint.
   */
  ca?: string | readonly string[];
}

/** One DICOMweb server as a PACS configuration describes it. */
export interface DicomwebEndpoint {
  /** Base URL of the service, path included: `https://pacs.example/dicom-web`. */
  url: string;
  auth: DicomwebAuth;
  /** Sent as the `VidarSourceAET` header when set. */
  sourceAeTitle?: string;
  /** The configuration's `aeTitle`, sent as the `VidarPacsAET` header. */
  pacsAeTitle: string;
  /**
   * Bounds each phase of an exchange: connecting (DNS, TCP, TLS), waiting for the response headers
   * once the request is sent, and each silence while the body arrives. Also bounds the token request.
   */
  timeoutMs: number;
  tls?: DicomwebTlsOptions;
}

export const MAX_TIMEOUT_MS = 3_600_000;

/** A checked endpoint: everything a request needs, computed once. */
export interface ResolvedEndpoint {
  /** Base URL without trailing slash, no query, no credentials. */
  baseUrl: URL;
  /** `host:port` for messages. */
  hostPort: string;
  auth: DicomwebAuth;
  tokenUrl?: URL;
  /** The headers every request carries except Authorization. */
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  ca?: readonly string[];
  /** Every secret of this endpoint, to scrub from anything echoed back by a server. */
  secrets: readonly string[];
  /** Identifies the TLS trust settings, so pooled connections are never shared across them. */
  tlsKey: string;
}

function invalid(message: string): DicomwebError {
  return new DicomwebError(DicomwebErrorCode.InvalidConfiguration, message);
}

/** Parses an http(s) URL given in a configuration; the message names the field, never its userinfo. */
export function parseHttpUrl(field: string, value: unknown): URL {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${field} is missing`);
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw invalid(`${field} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`${field} must start with http:// or https:// (it starts with ${url.protocol}//)`);
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid(`${field} must not contain credentials; configure them as auth`);
  }
  if (url.hash !== '') throw invalid(`${field} must not contain a #fragment`);
  return url;
}

/** `host:port` with the scheme's default port spelled out, as people read it in a firewall rule. */
export function hostPortOf(url: URL): string {
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  return `${url.hostname}:${port}`;
}

/** The URL as it may appear in a message: no credentials, no query. */
export function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname === '/' ? '' : url.pathname}`;
}

function requiredText(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalid(`${field} is missing`);
  return value;
}

function aeTitleHeader(field: string, value: string): string {
  const problem = aeTitleProblem(value);
  if (problem !== undefined) throw invalid(`${field} ${problem}`);
  return normalizeAeTitle(value);
}

function secretsOf(auth: DicomwebAuth): string[] {
  switch (auth.method) {
    case 'none':
      return [];
    case 'basic':
      return [auth.password, Buffer.from(`${auth.username}:${auth.password}`).toString('base64')];
    case 'bearer':
      return [auth.token];
    case 'oauth2-client-credentials':
      return [auth.clientSecret];
  }
}

function checkAuth(auth: DicomwebAuth | undefined): { auth: DicomwebAuth; tokenUrl?: URL } {
  if (auth === undefined || typeof auth !== 'object') throw invalid('auth is missing');
  switch (auth.method) {
    case 'none':
      return { auth };
    case 'basic':
      requiredText('auth.username', auth.username);
      if (auth.username.includes(':')) throw invalid('auth.username must not contain ":" (RFC 7617)');
      requiredText('auth.password', auth.password);
      return { auth };
    case 'bearer':
      if (!/^[\x21-\x7e]+$/.test(requiredText('auth.token', auth.token))) {
        throw invalid('auth.token must be printable ASCII without spaces (RFC 6750 b64token)');
      }
      return { auth };
    case 'oauth2-client-credentials': {
      const tokenUrl = parseHttpUrl('auth.tokenUrl', auth.tokenUrl);
      requiredText('auth.clientId', auth.clientId);
      requiredText('auth.clientSecret', auth.clientSecret);
      const clientAuthentication = auth.clientAuthentication ?? 'client_secret_basic';
      if (clientAuthentication !== 'client_secret_basic' && clientAuthentication !== 'client_secret_post') {
        throw invalid('auth.clientAuthentication must be client_secret_basic or client_secret_post');
      }
      return { auth, tokenUrl };
    }
    default: {
      const method = (auth as { method?: unknown }).method;
      throw invalid(
        `auth.method ${JSON.stringify(method)} is not one of none, basic, bearer, oauth2-client-credentials`,
      );
    }
  }
}

/** Checks an endpoint once and computes what each request needs; throws INVALID_CONFIGURATION. */
export function resolveEndpoint(endpoint: DicomwebEndpoint): ResolvedEndpoint {
  const baseUrl = parseHttpUrl('url', endpoint.url);
  if (baseUrl.search !== '') throw invalid('url must not contain a query string');
  baseUrl.pathname = baseUrl.pathname.replace(/\/+$/, '');

  const { timeoutMs } = endpoint;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw invalid(`timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`);
  }
  const { auth, tokenUrl } = checkAuth(endpoint.auth);

  const headers: Record<string, string> = {
    accept: 'application/dicom+json',
    VidarPacsAET: aeTitleHeader('pacsAeTitle', requiredText('pacsAeTitle', endpoint.pacsAeTitle)),
  };
  if (endpoint.sourceAeTitle !== undefined && endpoint.sourceAeTitle !== '') {
    headers.VidarSourceAET = aeTitleHeader('sourceAeTitle', endpoint.sourceAeTitle);
  }

  const ca = endpoint.tls?.ca === undefined ? undefined : [endpoint.tls.ca].flat();
  const tlsKey =
    ca === undefined ? 'default' : createHash('sha256').update(ca.join('\n')).digest('hex').slice(0, 16);

  return {
    baseUrl,
    hostPort: hostPortOf(baseUrl),
    auth,
    tokenUrl,
    headers,
    timeoutMs,
    ca,
    secrets: secretsOf(auth).filter((secret) => secret.length >= 4),
    tlsKey,
  };
}
