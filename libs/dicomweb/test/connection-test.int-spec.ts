import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deleteStudyFromOrthanc,
  generateStudy,
  runDcmtk,
  startPeers,
  testEgressGuard,
  type PeerEndpoints,
} from '@pacslink/testing';
import { DicomwebClient, type ConnectionTestResult, type DicomwebEndpoint } from '../src';
import {
  closeServer,
  expiredCertificate,
  listenLocal,
  refusedPort,
  selfSignedCertificate,
  type Certificate,
} from './local-servers';

// The contract's DICOMweb connection test against real Orthanc and against servers of this test's
// own on 127.0.0.1: each way a connection can fail must say so in its own words.
jest.setTimeout(120_000);

const STUDY_JSON = JSON.stringify([{ '0020000D': { vr: 'UI', Value: ['1.2.3.4'] } }]);
const CLIENT_ID = 'pacslink client';
const CLIENT_SECRET = 's3cr3t:with/odd+chars';
const SCOPE = 'dicomweb.read';
const LOGIN_PASSWORD = 'portal-password-42';

let peers: PeerEndpoints;
let workDir: string;
let storedStudyUid: string;
const client = new DicomwebClient({ egress: testEgressGuard() });

// ---- a local server with one route per odd behaviour -------------------------------------------

let local: Server;
let localUrl: string;
const issuedTokens: string[] = [];
let tokenRequests = 0;
let revoked = new Set<string>();
const pacsHeaders: Array<Record<string, string | string[] | undefined>> = [];

function send(response: ServerResponse, status: number, body = '', type = 'application/dicom+json'): void {
  response.writeHead(status, body === '' ? {} : { 'content-type': type });
  response.end(body);
}

async function formOf(request: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of request) text += (chunk as Buffer).toString('utf8');
  return new URLSearchParams(text);
}

/** RFC 6749 4.4 token endpoint that insists on client_secret_basic. */
async function tokenEndpoint(request: IncomingMessage, response: ServerResponse): Promise<void> {
  tokenRequests += 1;
  const form = await formOf(request);
  const encode = (value: string) => new URLSearchParams([['v', value]]).toString().slice(2);
  const expected = `Basic ${Buffer.from(`${encode(CLIENT_ID)}:${encode(CLIENT_SECRET)}`).toString('base64')}`;
  if (request.method !== 'POST' || request.headers.authorization !== expected) {
    return send(response, 401, JSON.stringify({ error: 'invalid_client' }), 'application/json');
  }
  if (form.get('grant_type') !== 'client_credentials' || form.get('scope') !== SCOPE) {
    return send(response, 400, JSON.stringify({ error: 'invalid_request' }), 'application/json');
  }
  const token = `tok-${issuedTokens.length + 1}-${Date.now()}`;
  issuedTokens.push(token);
  const body = { access_token: token, token_type: 'Bearer', expires_in: 3600 };
  send(response, 200, JSON.stringify(body), 'application/json');
}

const LOGIN_PAGE = (password: string) =>
  `<!DOCTYPE html>\n<html><head><title>Sign in – Hospital Portal</title></head>
   <body><form><input name="password" value="${password}"></form></body></html>`;

async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { pathname } = new URL(request.url ?? '/', 'http://localhost');
  switch (pathname) {
    case '/oauth/token':
      return tokenEndpoint(request, response);
    case '/oauth-empty/token':
      return send(
        response,
        200,
        JSON.stringify({ token_type: 'Bearer', expires_in: 60 }),
        'application/json',
      );
    case '/oauth-pacs/studies': {
      pacsHeaders.push(request.headers);
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (token === undefined || !issuedTokens.includes(token) || revoked.has(token)) {
        response.setHeader('www-authenticate', 'Bearer error="invalid_token"');
        return send(response, 401);
      }
      return send(response, 200, STUDY_JSON);
    }
    case '/empty/studies':
      return send(response, 200, '[]');
    case '/no-content/studies':
      return send(response, 204);
    case '/login/studies': {
      // echoes the Basic password, as a careless portal might: the detail must not repeat it
      const basic = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64');
      return send(
        response,
        200,
        LOGIN_PAGE(basic.toString().split(':')[1] ?? ''),
        'text/html; charset=utf-8',
      );
    }
    case '/redirect/studies':
      response.setHeader('location', '/sso/login?state=abc123&return=/studies');
      return send(response, 302);
    case '/api/studies':
      return send(response, 200, JSON.stringify({ status: 'ok' }), 'application/json');
    case '/broken/studies':
      return send(response, 500, 'database connection lost', 'text/plain');
    case '/busy/studies':
      return send(response, 503);
    case '/hang/studies':
      return; // accepted, never answered
    case '/stall/studies':
      response.writeHead(200, { 'content-type': 'application/dicom+json' });
      response.write('[{"0020000D":'); // and nothing more
      return;
    default:
      return send(response, 404, 'Not Found', 'text/plain');
  }
}

// ---- TLS servers ----------------------------------------------------------------------------

let selfSigned: Certificate;
let expired: Certificate;
let withIpSan: Certificate;
const tlsServers: HttpsServer[] = [];

async function httpsServer(certificate: Certificate): Promise<string> {
  const server = createHttpsServer(certificate, (_request, response) => send(response, 200, '[]'));
  tlsServers.push(server);
  return `https://127.0.0.1:${await listenLocal(server)}/dicom-web`;
}

// ---- the endpoint under test ------------------------------------------------------------------

function endpoint(url: string, more: Partial<DicomwebEndpoint> = {}): DicomwebEndpoint {
  return { url, auth: { method: 'none' }, pacsAeTitle: 'TESTPACS', timeoutMs: 5_000, ...more };
}

function oauth2(tokenPath = '/oauth/token', secret = CLIENT_SECRET): DicomwebEndpoint['auth'] {
  return {
    method: 'oauth2-client-credentials',
    tokenUrl: `${localUrl}${tokenPath}`,
    clientId: CLIENT_ID,
    clientSecret: secret,
    scope: SCOPE,
  };
}

function expectFailure(result: ConnectionTestResult, detail: string | RegExp): void {
  expect(result).toMatchObject({ ok: false, message: 'Connection failed' });
  if (typeof detail === 'string') expect(result.detail).toBe(detail);
  else expect(result.detail).toMatch(detail);
  expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
}

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-conntest-'));
  local = createServer((request, response) => {
    route(request, response).catch(() => send(response, 500));
  });
  localUrl = `http://127.0.0.1:${await listenLocal(local)}`;
  [selfSigned, expired, withIpSan] = await Promise.all([
    selfSignedCertificate(workDir, 'self-signed'),
    expiredCertificate(workDir),
    selfSignedCertificate(workDir, 'ip-san', ['-addext', 'subjectAltName=IP:127.0.0.1']),
  ]);
  // One study of our own, so Orthanc certainly holds one whatever other test files do meanwhile.
  const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 1 });
  storedStudyUid = study.studyInstanceUid;
  await runDcmtk('storescu', [
    ...['-aet', 'STORESCU', '-aec', peers.orthanc.aet, peers.orthanc.host, String(peers.orthanc.port)],
    ...study.files,
  ]);
});

afterAll(async () => {
  await client.close();
  if (storedStudyUid) await deleteStudyFromOrthanc(peers.orthanc, storedStudyUid);
  if (local) await closeServer(local);
  await Promise.all(tlsServers.map((server) => closeServer(server)));
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('Orthanc', () => {
  const orthanc = (auth?: DicomwebEndpoint['auth'], url?: string): DicomwebEndpoint =>
    endpoint(url ?? peers.orthanc.dicomWebUrl, {
      auth: auth ?? { method: 'basic', username: peers.orthanc.user, password: peers.orthanc.password },
      pacsAeTitle: peers.orthanc.aet,
      sourceAeTitle: 'PACSLINK',
    });

  it('with the right credentials: established, and it found a study', async () => {
    const result = await client.testConnection(orthanc());
    expect(result).toEqual({
      ok: true,
      message: 'Connection established',
      detail: 'found at least one study',
      elapsedMs: expect.any(Number) as number,
    });
  });

  it('with a wrong password: authentication rejected', async () => {
    const result = await client.testConnection(
      orthanc({ method: 'basic', username: peers.orthanc.user, password: 'not-the-password' }),
    );
    expectFailure(result, 'authentication rejected (HTTP 401) — check the username/password');
  });

  it("at Orthanc's own REST root instead of /dicom-web: its refusal, in its words", async () => {
    // Orthanc's REST /studies wants since= with limit= and says so in a JSON body
    const result = await client.testConnection(orthanc(undefined, peers.orthanc.httpUrl));
    expectFailure(
      result,
      /^the server refused the query \(HTTP 400 Bad Request\): “\{ "Details" : "Missing \\"since\\" argument/,
    );
  });

  it("at Orthanc's DICOM port: the connection is closed without an HTTP answer", async () => {
    const result = await client.testConnection(
      orthanc(undefined, `http://${peers.orthanc.host}:${peers.orthanc.port}/dicom-web`),
    );
    expectFailure(
      result,
      `${peers.orthanc.host}:${peers.orthanc.port} closed the connection without an HTTP answer — is it the HTTP port of a DICOMweb service (or an HTTPS port, then use https://)?`,
    );
  });
});

describe('a reachable server that holds no studies is still established', () => {
  it('200 []', async () => {
    await expect(client.testConnection(endpoint(`${localUrl}/empty`))).resolves.toMatchObject({
      ok: true,
      message: 'Connection established',
      detail: 'the server answered but holds no studies',
    });
  });

  it('204 No Content', async () => {
    await expect(client.testConnection(endpoint(`${localUrl}/no-content/`))).resolves.toMatchObject({
      ok: true,
      detail: 'the server answered but holds no studies',
    });
  });
});

describe('OAuth2 client credentials', () => {
  const pacs = () => endpoint(`${localUrl}/oauth-pacs`, { auth: oauth2(), sourceAeTitle: 'VIEWER_1' });

  it('gets a token with client_secret_basic, sends it with the Vidar headers, and reuses it', async () => {
    const before = tokenRequests;
    const result = await client.testConnection(pacs());
    expect(result).toMatchObject({ ok: true, detail: 'found at least one study' });
    expect(tokenRequests).toBe(before + 1);

    const received = pacsHeaders.at(-1) ?? {};
    expect(received.authorization).toBe(`Bearer ${issuedTokens.at(-1)}`);
    expect(received.vidarsourceaet).toBe('VIEWER_1');
    expect(received.vidarpacsaet).toBe('TESTPACS');
    expect(received.accept).toBe('application/dicom+json');

    // queries reuse the cached token: no new token request
    await client.qido(pacs(), { level: 'studies', limit: 1 });
    await Promise.all([1, 2, 3].map(() => client.qido(pacs(), { level: 'studies', limit: 1 })));
    expect(tokenRequests).toBe(before + 1);
  });

  it('after the PACS refuses a cached token: one refresh, one retry', async () => {
    await client.qido(pacs(), { level: 'studies' });
    const before = tokenRequests;
    revoked = new Set(issuedTokens);
    await expect(client.qido(pacs(), { level: 'studies' })).resolves.toHaveLength(1);
    expect(tokenRequests).toBe(before + 1);
  });

  it('a wrong client secret is reported by the token endpoint', async () => {
    const result = await client.testConnection(
      endpoint(`${localUrl}/oauth-pacs`, { auth: oauth2('/oauth/token', 'wrong-secret') }),
    );
    expectFailure(
      result,
      `token endpoint ${localUrl}/oauth/token answered 401 invalid_client — check the client ID and secret`,
    );
    expect(result.detail).not.toContain('wrong-secret');
  });

  it('a token endpoint that answers without access_token', async () => {
    const result = await client.testConnection(
      endpoint(`${localUrl}/oauth-pacs`, { auth: oauth2('/oauth-empty/token') }),
    );
    expectFailure(result, `token endpoint ${localUrl}/oauth-empty/token answered without access_token`);
  });

  it('an unreachable token endpoint', async () => {
    const port = await refusedPort();
    const auth = { ...oauth2(), tokenUrl: `http://127.0.0.1:${port}/token` };
    const result = await client.testConnection(endpoint(`${localUrl}/oauth-pacs`, { auth }));
    expectFailure(
      result,
      `token endpoint http://127.0.0.1:${port}/token unreachable: connection refused by 127.0.0.1:${port} — nothing listens on that port, or a firewall rejects it`,
    );
  });
});

describe('answers that are not DICOMweb', () => {
  it('an HTML login page, without repeating the password it echoes', async () => {
    const result = await client.testConnection(
      endpoint(`${localUrl}/login`, { auth: { method: 'basic', username: 'me', password: LOGIN_PASSWORD } }),
    );
    expectFailure(
      result,
      'not a DICOMweb endpoint: the answer is text/html (an HTML page titled “Sign in – Hospital Portal”, a login page): ' +
        '“<!DOCTYPE html> <html><head><title>Sign in – Hospital Portal</title></head> <body><form><input name="password" value="***"></form></body></html>”',
    );
    expect(result.detail).not.toContain(LOGIN_PASSWORD);
  });

  it('a redirect to a login page', async () => {
    expectFailure(
      await client.testConnection(endpoint(`${localUrl}/redirect`)),
      `not a DICOMweb endpoint: the server redirects (HTTP 302) to ${localUrl}/sso/login — a login page? configure the DICOMweb service URL itself`,
    );
  });

  it('a JSON API that is not DICOMweb', async () => {
    expectFailure(
      await client.testConnection(endpoint(`${localUrl}/api`)),
      'not a DICOMweb endpoint: the answer is JSON but not DICOM JSON (expected an array of datasets, got an object with keys status): application/json: “{"status":"ok"}”',
    );
  });
});

describe('HTTP errors', () => {
  it('404', async () => {
    expectFailure(
      await client.testConnection(endpoint(`${localUrl}/wrong-path`)),
      `no DICOMweb service at ${localUrl}/wrong-path (HTTP 404) — check the URL path, e.g. ${localUrl}/dicom-web or ${localUrl}/dcm4chee-arc/aets/DCM4CHEE/rs`,
    );
  });

  it('500 with its text', async () => {
    expectFailure(
      await client.testConnection(endpoint(`${localUrl}/broken`)),
      'the server failed (HTTP 500 Internal Server Error): “database connection lost”',
    );
  });

  it('503', async () => {
    expectFailure(
      await client.testConnection(endpoint(`${localUrl}/busy`)),
      'the server failed (HTTP 503 Service Unavailable)',
    );
  });
});

describe('network', () => {
  it('a server that accepts and never answers: a response timeout within timeoutMs + 1 s', async () => {
    const started = Date.now();
    const result = await client.testConnection(endpoint(`${localUrl}/hang`, { timeoutMs: 1_500 }));
    const wall = Date.now() - started;
    expectFailure(
      result,
      `connected to ${localUrl.slice(7)}, but no answer within 1500 ms (response timeout)`,
    );
    expect(result.elapsedMs).toBeGreaterThanOrEqual(1_400);
    expect(wall).toBeLessThan(2_500);
  });

  it('a server that stops in the middle of its answer: a response timeout too', async () => {
    const result = await client.testConnection(endpoint(`${localUrl}/stall`, { timeoutMs: 1_500 }));
    expectFailure(result, `${localUrl.slice(7)} stopped sending its answer for 1500 ms (response timeout)`);
    expect(result.elapsedMs).toBeLessThan(2_500);
  });

  it('a refused port', async () => {
    const port = await refusedPort();
    expectFailure(
      await client.testConnection(endpoint(`http://127.0.0.1:${port}/dicom-web`)),
      `connection refused by 127.0.0.1:${port} — nothing listens on that port, or a firewall rejects it`,
    );
  });

  it('a host name that does not resolve', async () => {
    expectFailure(
      await client.testConnection(endpoint('http://nonexistent.invalid/dicom-web')),
      /^host nonexistent\.invalid not found \(DNS/,
    );
  });
});

describe('TLS', () => {
  it('a self-signed certificate', async () => {
    const url = await httpsServer(selfSigned);
    const hostPort = new URL(url).host;
    expectFailure(
      await client.testConnection(endpoint(url)),
      `TLS: self-signed certificate presented by ${hostPort} — not trusted; add it to the trusted certificates`,
    );
  });

  it('a trusted certificate for another name: hostname mismatch', async () => {
    const url = await httpsServer(selfSigned);
    const hostPort = new URL(url).host;
    expectFailure(
      await client.testConnection(endpoint(url, { tls: { ca: selfSigned.cert } })),
      `TLS: hostname mismatch — the certificate of ${hostPort} is not valid for 127.0.0.1 (it names CN=localhost)`,
    );
  });

  it('an expired certificate', async () => {
    const url = await httpsServer(expired);
    expectFailure(
      await client.testConnection(endpoint(url, { tls: { ca: expired.cert } })),
      `TLS: the certificate of ${new URL(url).host} has expired`,
    );
  });

  it('a trusted certificate for 127.0.0.1: established', async () => {
    const url = await httpsServer(withIpSan);
    await expect(
      client.testConnection(endpoint(url, { tls: { ca: withIpSan.cert } })),
    ).resolves.toMatchObject({
      ok: true,
      detail: 'the server answered but holds no studies',
    });
  });

  it('https:// to a plain-HTTP port', async () => {
    expectFailure(
      await client.testConnection(endpoint(`${localUrl.replace('http:', 'https:')}/empty`)),
      `TLS handshake with ${localUrl.slice(7)} failed (wrong version number) — is it a plain-HTTP port? then use http://`,
    );
  });
});
