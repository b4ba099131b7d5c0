import { DicomwebError, DicomwebErrorCode, dicomwebErrorDisposition } from './dicomweb.errors';
import {
  describeBody,
  httpStatusFailure,
  networkFailure,
  redact,
  type ConnectionContext,
  type StatusContext,
} from './failure-mapping';

const CONTEXT: ConnectionContext = {
  hostPort: 'pacs.example:443',
  hostname: 'pacs.example',
  protocol: 'https:',
  timeoutMs: 5000,
};

/** Shaped like what undici and Node throw: a code, sometimes wrapped as `cause` (fetch does that). */
function nodeError(code: string, message = code, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

describe('networkFailure', () => {
  it.each([
    ['ENOTFOUND', DicomwebErrorCode.DnsNotFound, 'host pacs.example not found (DNS)'],
    [
      'EAI_AGAIN',
      DicomwebErrorCode.DnsNotFound,
      'host pacs.example not found (DNS: the name server did not answer, EAI_AGAIN)',
    ],
    [
      'ECONNREFUSED',
      DicomwebErrorCode.ConnectionRefused,
      'connection refused by pacs.example:443 — nothing listens on that port, or a firewall rejects it',
    ],
    [
      'EHOSTUNREACH',
      DicomwebErrorCode.NetworkUnreachable,
      'pacs.example:443 is unreachable (EHOSTUNREACH: no route)',
    ],
    [
      'ECONNRESET',
      DicomwebErrorCode.ConnectionClosed,
      'pacs.example:443 closed the connection without an HTTP answer — is it the HTTPS port of a DICOMweb service?',
    ],
    [
      'UND_ERR_CONNECT_TIMEOUT',
      DicomwebErrorCode.ConnectTimeout,
      'no connection to pacs.example:443 within 5000 ms (connect timeout) — host down, or a firewall drops the packets',
    ],
    [
      'UND_ERR_HEADERS_TIMEOUT',
      DicomwebErrorCode.ResponseTimeout,
      'connected to pacs.example:443, but no answer within 5000 ms (response timeout)',
    ],
    [
      'UND_ERR_BODY_TIMEOUT',
      DicomwebErrorCode.ResponseTimeout,
      'pacs.example:443 stopped sending its answer for 5000 ms (response timeout)',
    ],
    [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      DicomwebErrorCode.TlsSelfSigned,
      'TLS: self-signed certificate presented by pacs.example:443 — not trusted; add it to the trusted certificates',
    ],
    [
      'SELF_SIGNED_CERT_IN_CHAIN',
      DicomwebErrorCode.TlsSelfSigned,
      'TLS: self-signed certificate in the chain presented by pacs.example:443 — its root CA is not trusted',
    ],
    [
      'CERT_HAS_EXPIRED',
      DicomwebErrorCode.TlsCertificateExpired,
      'TLS: the certificate of pacs.example:443 has expired',
    ],
    [
      'CERT_NOT_YET_VALID',
      DicomwebErrorCode.TlsCertificateNotYetValid,
      'TLS: the certificate of pacs.example:443 is not valid yet — check the clocks',
    ],
    [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      DicomwebErrorCode.TlsUntrusted,
      'TLS: the certificate of pacs.example:443 is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    ],
    [
      'ERR_SSL_WRONG_VERSION_NUMBER',
      DicomwebErrorCode.TlsHandshakeFailed,
      'TLS handshake with pacs.example:443 failed (wrong version number) — is it a plain-HTTP port? then use http://',
    ],
    [
      'HPE_INVALID_CONSTANT',
      DicomwebErrorCode.NotDicomweb,
      'not a DICOMweb endpoint: pacs.example:443 does not answer in HTTP (HPE_INVALID_CONSTANT) — is it a DICOM (DIMSE) port?',
    ],
    ['UND_ERR_ABORTED', DicomwebErrorCode.Aborted, 'the request was cancelled'],
  ])('%s → %s', (code, expected, message) => {
    const error = networkFailure(nodeError(code), CONTEXT);
    expect(error).toBeInstanceOf(DicomwebError);
    expect(error.code).toBe(expected);
    expect(error.message).toBe(message);
  });

  it('finds the code in a cause chain (fetch wraps errors as TypeError: fetch failed)', () => {
    const wrapped = new TypeError('fetch failed', { cause: nodeError('ECONNREFUSED') });
    expect(networkFailure(wrapped, CONTEXT).code).toBe(DicomwebErrorCode.ConnectionRefused);
  });

  it('finds the code inside an AggregateError (happy eyeballs tried several addresses)', () => {
    const aggregate = new AggregateError([nodeError('ECONNREFUSED'), nodeError('ECONNREFUSED')], 'x');
    expect(networkFailure(aggregate, CONTEXT).code).toBe(DicomwebErrorCode.ConnectionRefused);
  });

  it('names the hostname and what the certificate names on a mismatch', () => {
    const error = nodeError(
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames",
      {
        cert: { subject: { CN: 'localhost' }, subjectaltname: 'DNS:localhost' },
      },
    );
    expect(networkFailure(error, CONTEXT).message).toBe(
      'TLS: hostname mismatch — the certificate of pacs.example:443 is not valid for pacs.example (it names DNS:localhost)',
    );
  });

  it('suggests https:// when a plain-http request is cut off', () => {
    const error = networkFailure(nodeError('UND_ERR_SOCKET', 'other side closed'), {
      ...CONTEXT,
      protocol: 'http:',
      hostPort: 'pacs.example:80',
    });
    expect(error.message).toBe(
      'pacs.example:80 closed the connection without an HTTP answer — is it the HTTP port of a DICOMweb service (or an HTTPS port, then use https://)?',
    );
  });

  it('keeps a DicomwebError as it is, and scrubs secrets from an unknown one', () => {
    const ours = new DicomwebError(DicomwebErrorCode.NotFound, 'x');
    expect(networkFailure(ours, CONTEXT)).toBe(ours);
    const odd = networkFailure(new Error('boom at https://u:pw@h/ with hunter22'), CONTEXT, ['hunter22']);
    expect(odd.code).toBe(DicomwebErrorCode.NetworkError);
    expect(odd.message).toBe('request to pacs.example:443 failed: boom at https://***@h/ with ***');
  });

  it('maps an AbortError without a code', () => {
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    expect(networkFailure(abort, CONTEXT).code).toBe(DicomwebErrorCode.Aborted);
  });
});

describe('httpStatusFailure', () => {
  const service: StatusContext = {
    serviceUrl: 'https://pacs.example/dicom-web',
    origin: 'https://pacs.example',
    authMethod: 'basic',
  };
  const facts = (status: number, more: Partial<Parameters<typeof httpStatusFailure>[0]> = {}) => ({
    status,
    snippet: '',
    ...more,
  });

  it.each([
    ['basic', 'check the username/password'],
    ['bearer', 'check the token'],
    [
      'oauth2-client-credentials',
      'check the client credentials and scope (the PACS refused a token fresh from the token endpoint)',
    ],
  ] as const)('401 with %s auth says what to check', (authMethod, hint) => {
    const error = httpStatusFailure(facts(401), { ...service, authMethod });
    expect(error.code).toBe(DicomwebErrorCode.AuthenticationRejected);
    expect(error.httpStatus).toBe(401);
    expect(error.message).toBe(`authentication rejected (HTTP 401) — ${hint}`);
  });

  it('401 without configured auth names the scheme the server asks for', () => {
    const error = httpStatusFailure(facts(401, { wwwAuthenticate: 'Basic realm="Orthanc"' }), {
      ...service,
      authMethod: 'none',
    });
    expect(error.message).toBe(
      'authentication rejected (HTTP 401) — the server requires credentials (it asks for Basic) and none are configured',
    );
  });

  it('403 is an authentication failure too', () => {
    expect(httpStatusFailure(facts(403), service).message).toBe(
      'authentication rejected (HTTP 403) — check the username/password',
    );
  });

  it('404 suggests a path', () => {
    expect(httpStatusFailure(facts(404), service).message).toBe(
      'no DICOMweb service at https://pacs.example/dicom-web (HTTP 404) — check the URL path, e.g. https://pacs.example/dicom-web or https://pacs.example/dcm4chee-arc/aets/DCM4CHEE/rs',
    );
    const bare = { ...service, serviceUrl: 'https://pacs.example' };
    expect(httpStatusFailure(facts(404), bare).message).toBe(
      'no DICOMweb service at https://pacs.example (HTTP 404) — check the URL path, e.g. https://pacs.example/dicom-web',
    );
  });

  it('5xx, other 4xx, 429 and 406', () => {
    expect(httpStatusFailure(facts(503), service)).toMatchObject({
      code: DicomwebErrorCode.ServerError,
      message: 'the server failed (HTTP 503 Service Unavailable)',
    });
    expect(
      httpStatusFailure(facts(500, { snippet: 'database down', contentType: 'text/plain' }), service).message,
    ).toBe('the server failed (HTTP 500 Internal Server Error): database down');
    expect(httpStatusFailure(facts(400, { snippet: 'bad date' }), service)).toMatchObject({
      code: DicomwebErrorCode.RequestRejected,
      message: 'the server refused the query (HTTP 400 Bad Request): bad date',
    });
    expect(httpStatusFailure(facts(429), service).code).toBe(DicomwebErrorCode.RateLimited);
    expect(httpStatusFailure(facts(406), service).message).toBe(
      'not a DICOMweb endpoint: the server will not answer application/dicom+json (HTTP 406 Not Acceptable)',
    );
  });

  it('a redirect is not DICOMweb, and the message shows where it goes without the query', () => {
    expect(httpStatusFailure(facts(302, { location: 'https://sso.example/login' }), service).message).toBe(
      'not a DICOMweb endpoint: the server redirects (HTTP 302) to https://sso.example/login — a login page? configure the DICOMweb service URL itself',
    );
  });
});

describe('describeBody and redact', () => {
  it('says what came back', () => {
    expect(describeBody({ contentType: 'text/html', snippet: '“<html>…”', htmlTitle: '“Sign in”' })).toBe(
      'text/html (an HTML page titled “Sign in”, a login page): “<html>…”',
    );
    expect(describeBody({ contentType: undefined, snippet: '' })).toBe('an empty body (no content type)');
  });

  it('removes secrets and URL credentials', () => {
    expect(redact('token=abcd1234 and http://me:pw@h/x', ['abcd1234'])).toBe('token=*** and http://***@h/x');
  });
});

describe('dicomwebErrorDisposition', () => {
  it('answers for every code', () => {
    for (const code of Object.values(DicomwebErrorCode)) {
      expect(typeof dicomwebErrorDisposition(code).retryable).toBe('boolean');
    }
    expect(dicomwebErrorDisposition(DicomwebErrorCode.ServerError).retryable).toBe(true);
    expect(dicomwebErrorDisposition(DicomwebErrorCode.AuthenticationRejected)).toEqual({
      area: 'auth',
      retryable: false,
    });
  });
});
