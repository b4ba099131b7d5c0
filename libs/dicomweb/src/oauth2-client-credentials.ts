import { request, type Dispatcher } from 'undici';
import { displayUrl } from './dicomweb-endpoint';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';
import { connectionContext, describeBody, networkFailure, statusLine } from './failure-mapping';
import { readPrefix, responseFacts } from './http-body';
import type { ClientCredentialsGrant, IssuedToken } from './oauth2-token-cache';

const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

/** The application/x-www-form-urlencoded serialization of one value (WHATWG URL, RFC 6749 Appendix B). */
export function formUrlEncode(value: string): string {
  return new URLSearchParams([['v', value]]).toString().slice(2);
}

/** RFC 6749 2.3.1 client_secret_basic: id and secret form-urlencoded first, then HTTP Basic. */
export function clientSecretBasic(clientId: string, clientSecret: string): string {
  const pair = `${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/** The form body of a client credentials token request (RFC 6749 4.4.2). */
export function tokenRequestBody(grant: ClientCredentialsGrant): string {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (grant.scope !== undefined && grant.scope !== '') form.set('scope', grant.scope);
  if (grant.clientAuthentication === 'client_secret_post') {
    form.set('client_id', grant.clientId);
    form.set('client_secret', grant.clientSecret);
  }
  return form.toString();
}

const ERROR_HINTS: Readonly<Record<string, string>> = {
  invalid_client: 'check the client ID and secret',
  unauthorized_client: 'this client may not use the client credentials grant',
  invalid_scope: 'check the scope',
  invalid_request: 'the token endpoint did not accept the request',
  unsupported_grant_type: 'the token endpoint does not offer the client credentials grant',
};

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expiresIn(value: unknown): number | undefined {
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) ? seconds : undefined;
}

/**
 * Asks the token endpoint for an access token (RFC 6749 4.4). Every failure is a DicomwebError
 * that names the token endpoint, so nobody mistakes it for the PACS refusing the request.
 */
export async function requestClientCredentialsToken(
  grant: ClientCredentialsGrant,
  dispatcher: Dispatcher,
): Promise<IssuedToken> {
  const where = displayUrl(grant.tokenUrl);
  const secrets = [grant.clientSecret, clientSecretBasic(grant.clientId, grant.clientSecret).slice(6)];
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (grant.clientAuthentication === 'client_secret_basic') {
    headers.authorization = clientSecretBasic(grant.clientId, grant.clientSecret);
  }

  let response: Dispatcher.ResponseData;
  let bytes: Buffer;
  try {
    response = await request(grant.tokenUrl, {
      method: 'POST',
      headers,
      body: tokenRequestBody(grant),
      dispatcher,
      headersTimeout: grant.timeoutMs,
      bodyTimeout: grant.timeoutMs,
    });
    ({ bytes } = await readPrefix(response.body, MAX_TOKEN_RESPONSE_BYTES, grant.timeoutMs));
  } catch (error) {
    const cause = networkFailure(error, connectionContext(grant.tokenUrl, grant.timeoutMs), secrets);
    if (cause.code === DicomwebErrorCode.EgressRefused) {
      // Not "unreachable": the policy refused it, and retrying will not change that.
      throw new DicomwebError(DicomwebErrorCode.EgressRefused, `token endpoint ${where}: ${cause.message}`, {
        cause,
      });
    }
    throw new DicomwebError(
      DicomwebErrorCode.TokenEndpointUnreachable,
      `token endpoint ${where} unreachable: ${cause.message}`,
      { cause },
    );
  }

  const status = response.statusCode;
  const body = parseJson(bytes);
  if (status < 200 || status > 299) {
    // RFC 6749 5.2: {"error": "invalid_client", "error_description": "..."}
    const code = isRecord(body) && typeof body.error === 'string' ? body.error.slice(0, 64) : undefined;
    const hint = code === undefined ? undefined : ERROR_HINTS[code];
    const facts = responseFacts(status, response.headers, bytes, secrets, grant.tokenUrl);
    const what = code === undefined ? `${statusLine(status)} (${describeBody(facts)})` : `${status} ${code}`;
    throw new DicomwebError(
      DicomwebErrorCode.TokenEndpointRejected,
      `token endpoint ${where} answered ${what}${hint ? ` — ${hint}` : ''}`,
      { httpStatus: status },
    );
  }
  if (!isRecord(body)) {
    const facts = responseFacts(status, response.headers, bytes, secrets, grant.tokenUrl);
    throw new DicomwebError(
      DicomwebErrorCode.TokenEndpointInvalidAnswer,
      `token endpoint ${where} answered ${statusLine(status)} without a JSON token: ${describeBody(facts)}`,
      { httpStatus: status },
    );
  }
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new DicomwebError(
      DicomwebErrorCode.TokenEndpointInvalidAnswer,
      `token endpoint ${where} answered without access_token`,
      { httpStatus: status },
    );
  }
  if (!/^[\x21-\x7e]+$/.test(accessToken)) {
    throw new DicomwebError(
      DicomwebErrorCode.TokenEndpointInvalidAnswer,
      `token endpoint ${where} issued an access_token that cannot be sent in an HTTP header`,
      { httpStatus: status },
    );
  }
  const tokenType = body.token_type;
  if (typeof tokenType === 'string' && tokenType.toLowerCase() !== 'bearer') {
    throw new DicomwebError(
      DicomwebErrorCode.TokenEndpointInvalidAnswer,
      `token endpoint ${where} issued a "${tokenType.slice(0, 32)}" token; only Bearer tokens are supported`,
      { httpStatus: status },
    );
  }
  return { accessToken, expiresInSeconds: expiresIn(body.expires_in) };
}
