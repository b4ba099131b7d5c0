import { createHmac, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, request as httpRequest, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';
import { startOidcProvider, type TestOidcProvider } from '@pacslink/testing';
import {
  expectProblem,
  fingerprint,
  newApiKey,
  startConfigService,
  type RunningConfigService,
} from './config-service.harness';

// Attacks on authentication and roles, tried against a running config-service: the holes found are
// proved closed, and the attempts that were already refused are kept refused (docs/security.md,
// "Attacks tried").

const ADMIN_KEY = newApiKey();
const OPERATOR_KEY = newApiKey();
const CHANGE_SETTINGS = { allowTransfer: true, defaultCallingAeTitle: 'EVIL' };

interface RawAnswer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * One HTTP request with the request target exactly as given (fetch would normalise it). Headers as
 * a flat [name, value, …] list may repeat a name (and must name the host: node:http adds none then).
 */
function raw(
  baseUrl: string,
  method: string,
  target: string,
  headers: OutgoingHttpHeaders | readonly string[] = {},
  body?: string,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path: target, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type']),
          body: text,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

function latin1(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function bearer(credential: string): OutgoingHttpHeaders {
  return { authorization: `Bearer ${credential}` };
}

async function ticketFor(service: RunningConfigService, key: string): Promise<string> {
  const issued = await service.call('POST', '/events/tickets', undefined, key);
  expect(issued.status).toBe(201);
  return ((await issued.json()) as { ticket: string }).ticket;
}

/** Opens the event stream with `ticket` and closes it at once: the status it answered. */
async function redeem(service: RunningConfigService, ticket: string): Promise<number> {
  const stream = new AbortController();
  const response = await fetch(`${service.baseUrl}/api/v1/events?ticket=${encodeURIComponent(ticket)}`, {
    signal: stream.signal,
  });
  stream.abort();
  return response.status;
}

describe('attacks with API keys', () => {
  let service: RunningConfigService;

  beforeAll(async () => {
    service = await startConfigService({ apiKey: ADMIN_KEY, apiKeys: [`${OPERATOR_KEY}:operator`] });
  });
  afterAll(() => service?.stop());

  it.each([
    '/api/v1/settings%5c',
    '/api\\v1\\settings',
    '/api/v1/settings\\',
    '/api/v1/set%C0%B4tings',
    '/api/v1/%c0%ae%c0%ae/v1/settings',
    '/api/v1/settings%00',
    '/api/v1/settings;/',
    '/api/v1/settings#x',
    '/health/live#/../api/v1/settings',
    '/health/live%3f/../../api/v1/settings',
    'http://127.0.0.1/api/v1/settings',
    'HTTP://x/health/live/../../api/v1/audit',
    '//127.0.0.1/api/v1/settings',
    '*',
    '/api/docs/swagger-ui-init.js',
    '/api/docs-yaml',
    '/api/docs/index.html',
    '/api/docs/',
  ])('answers GET %s without a caller with 401 and no data', async (target) => {
    const answer = await raw(service.baseUrl, 'GET', target);
    expect(answer.status).toBe(401);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    expect(answer.body).not.toContain('defaultCallingAeTitle');
    expect(answer.body).not.toContain('openapi');
  });

  it.each([
    ['TRACE', '/api/v1/settings'],
    ['TRACE', '/health/live'],
    ['OPTIONS', '*'],
    ['OPTIONS', '/api/v1/settings'],
    ['HEAD', '/api/v1/settings'],
    ['PROPFIND', '/api/v1/settings'],
  ])('answers %s %s without a caller with 401', async (method, target) => {
    expect((await raw(service.baseUrl, method, target)).status).toBe(401);
  });

  it.each([
    ['a tab after the scheme', `Bearer\t${ADMIN_KEY}`],
    ['Basic with the key as user', `Basic ${Buffer.from(`${ADMIN_KEY}:`).toString('base64')}`],
    ['no scheme', ADMIN_KEY],
    ['Bearer= glued', `Bearer=${ADMIN_KEY}`],
    ['the key and more', `Bearer ${ADMIN_KEY} x`],
    ['a list of credentials', `Bearer nope, Bearer ${ADMIN_KEY}`],
    ['the key quoted', `Bearer "${ADMIN_KEY}"`],
    ['the key but its last character', `Bearer ${ADMIN_KEY.slice(0, -1)}`],
    ['the key and one more character', `Bearer ${ADMIN_KEY}x`],
    ['the key and an encoded NUL', `Bearer ${ADMIN_KEY}%00`],
    // As the bytes of UTF-8 on the wire (a header value is latin1 to node:http).
    ['a lookalike of the key (Cyrillic е)', `Bearer ${latin1(ADMIN_KEY.replace(/e/, 'е'))}`],
    ['Bearer alone', 'Bearer'],
  ])('refuses an Authorization header with %s (401)', async (_, authorization) => {
    const answer = await raw(service.baseUrl, 'GET', '/api/v1/audit', { authorization });
    expect(answer.status).toBe(401);
    expect(answer.body).not.toContain('"items"');
  });

  it('takes no credential from a second Authorization header, nor from X-API-Key', async () => {
    const once = ['host', '127.0.0.1', 'authorization', `Bearer ${ADMIN_KEY}`];
    expect((await raw(service.baseUrl, 'GET', '/api/v1/audit', once)).status).toBe(200);
    const twice = [
      'host',
      '127.0.0.1',
      'authorization',
      'Bearer nope',
      'authorization',
      `Bearer ${ADMIN_KEY}`,
    ];
    expect((await raw(service.baseUrl, 'GET', '/api/v1/audit', twice)).status).toBe(401);
    const emptyFirst = ['host', '127.0.0.1', 'authorization', '', 'authorization', `Bearer ${ADMIN_KEY}`];
    expect((await raw(service.baseUrl, 'GET', '/api/v1/audit', emptyFirst)).status).toBe(401);
    expect((await raw(service.baseUrl, 'GET', '/api/v1/audit', { 'x-api-key': ADMIN_KEY })).status).toBe(401);
  });

  it('gives an operator no admin route by another spelling, method or override header', async () => {
    const asOperator = bearer(OPERATOR_KEY);
    for (const [method, target] of [
      ['HEAD', '/api/v1/audit'],
      ['GET', 'http://127.0.0.1/api/v1/audit'],
      ['GET', '/api/v1/audit#'],
    ])
      expect((await raw(service.baseUrl, method, target, asOperator)).status).toBe(403);
    const body = JSON.stringify(CHANGE_SETTINGS);
    // node:http frames no body of a GET by itself: the length goes along.
    const json = {
      ...asOperator,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    const overrides = {
      'x-http-method-override': 'PUT',
      'x-http-method': 'PUT',
      'x-method-override': 'PUT',
    };
    // No override is honoured: each request is what its method says (no such route, or a read).
    for (const [method, target, status] of [
      ['POST', '/api/v1/settings', 404],
      ['POST', '/api/v1/settings?_method=PUT', 404],
      ['PATCH', '/api/v1/settings', 404],
      ['GET', '/api/v1/settings', 200],
    ] as const) {
      const answer = await raw(service.baseUrl, method, target, { ...json, ...overrides }, body);
      expect({ method, target, status: answer.status }).toEqual({ method, target, status });
    }
    expect((await raw(service.baseUrl, 'PUT', 'http://127.0.0.1/api/v1/settings', json, body)).status).toBe(
      403,
    );
    const settings = (await (await service.call('GET', '/settings')).json()) as Record<string, unknown>;
    expect(settings.defaultCallingAeTitle).not.toBe('EVIL');
  });

  it('answers an unknown route 401 without a caller (no route map) and 404 with one', async () => {
    expect((await raw(service.baseUrl, 'GET', '/api/v1/nope')).status).toBe(401);
    const known = await raw(service.baseUrl, 'GET', '/api/v1/nope', bearer(OPERATOR_KEY));
    expect(known.status).toBe(404);
    expect(known.contentType).toMatch(/^application\/problem\+json/);
  });

  it('redeems a ticket once when 10 requests race for it', async () => {
    const ticket = await ticketFor(service, OPERATOR_KEY);
    const statuses = await Promise.all(Array.from({ length: 10 }, () => redeem(service, ticket)));
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(9);
  });

  type TicketRequest = (ticket: string) => [method: string, target: string, headers: OutgoingHttpHeaders];
  it.each<[string, TicketRequest]>([
    ['beside a wrong Authorization header', (t) => ['GET', `/api/v1/events?ticket=${t}`, bearer('no')]],
    ['with HEAD', (t) => ['HEAD', `/api/v1/events?ticket=${t}`, {}]],
    ['in absolute form', (t) => ['GET', `http://127.0.0.1/api/v1/events?ticket=${t}`, {}]],
    ['on a percent-encoded path', (t) => ['GET', `/api/v1/event%73?ticket=${t}`, {}]],
    ['after a first, wrong ticket', (t) => ['GET', `/api/v1/events?ticket=x&ticket=${t}`, {}]],
    ['as a Bearer credential', (t) => ['GET', '/api/v1/events', bearer(t)]],
    ['as a Bearer credential elsewhere', (t) => ['GET', '/api/v1/settings', bearer(t)]],
    ['on the ticket route itself', (t) => ['POST', `/api/v1/events/tickets?ticket=${t}`, {}]],
  ])('opens nothing with a ticket %s, and leaves it unspent', async (_, request) => {
    const ticket = await ticketFor(service, OPERATOR_KEY);
    const [method, target, headers] = request(ticket);
    expect((await raw(service.baseUrl, method, target, headers)).status).toBe(401);
    expect(await redeem(service, ticket)).toBe(200);
  });
});

describe('flooding the refusal audit', () => {
  let service: RunningConfigService;

  beforeAll(async () => {
    service = await startConfigService({ apiKey: ADMIN_KEY, apiKeys: [`${OPERATOR_KEY}:operator`] });
  });
  afterAll(() => service?.stop());

  it("caps anonymous refusals without crowding out a known caller's forbidden attempt", async () => {
    // Anyone who reaches the port can cause 401s; an operator who floods them first must not be
    // able to try an admin route unrecorded.
    const flood = await Promise.all(
      Array.from({ length: 150 }, (_, i) => raw(service.baseUrl, 'GET', `/api/v1/flood/${i}`)),
    );
    expect(flood.every((answer) => answer.status === 401)).toBe(true);
    await expectProblem(await service.call('PUT', '/settings', CHANGE_SETTINGS, OPERATOR_KEY), 403);

    const refused = (await service.auditEntries()).filter((entry) => entry.action === 'auth.refused');
    const anonymous = refused.filter((entry) => entry.actor === 'unauthenticated');
    expect(anonymous.length).toBeGreaterThan(0);
    expect(anonymous.length).toBeLessThanOrEqual(100);
    expect(refused).toContainEqual(
      expect.objectContaining({
        actor: fingerprint(OPERATOR_KEY),
        change: expect.objectContaining({ status: 403, method: 'PUT', path: '/api/v1/settings' }) as unknown,
      }),
    );
  });
});

describe('attacks with OpenID Connect tokens', () => {
  let oidc: TestOidcProvider;
  let service: RunningConfigService;
  let issuerKey: KeyObject;
  let attackerJwks: Server;
  let attackerJwksUrl: string;
  const attackerJwksHits: string[] = [];
  let attackerKey: KeyLike;
  let attackerJwk: JWK;

  beforeAll(async () => {
    oidc = await startOidcProvider();
    service = await startConfigService({
      apiKey: ADMIN_KEY,
      env: { OIDC_ISSUER_URL: oidc.issuer, OIDC_AUDIENCE: oidc.audience },
    });
    const discovery = (await (await fetch(`${oidc.issuer}/.well-known/openid-configuration`)).json()) as {
      jwks_uri: string;
    };
    const { keys } = (await (await fetch(discovery.jwks_uri)).json()) as { keys: JsonWebKey[] };
    issuerKey = createPublicKey({ key: keys[0], format: 'jwk' });
    const attacker = await generateKeyPair('RS256', { extractable: true });
    attackerKey = attacker.privateKey;
    attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: 'test-key-1', alg: 'RS256' };
    attackerJwks = createServer((req, res) => {
      attackerJwksHits.push(req.url ?? '');
      res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [attackerJwk] }));
    });
    await new Promise<void>((resolve) => attackerJwks.listen(0, '127.0.0.1', resolve));
    attackerJwksUrl = `http://127.0.0.1:${(attackerJwks.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await service?.stop();
    await oidc?.stop();
    await new Promise((resolve) => attackerJwks?.close(resolve));
  });

  const inSeconds = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;
  const admin = (claims: JWTPayload = {}): JWTPayload => ({
    iss: oidc.issuer,
    aud: oidc.audience,
    sub: 'mallory',
    roles: ['admin'],
    exp: inSeconds(600),
    ...claims,
  });
  const part = (value: unknown) =>
    Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  /** HS256 over header and claims with `secret`: the algorithm-confusion forgery. */
  const hmacSigned = (secret: string | Buffer, claims: JWTPayload): string => {
    const input = `${part({ alg: 'HS256', typ: 'JWT', kid: 'test-key-1' })}.${part(claims)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const signedByAttacker = (header: Record<string, unknown>) =>
    new SignJWT(admin()).setProtectedHeader({ alg: 'RS256', ...header }).sign(attackerKey);
  const onAudit = (token: string) => raw(service.baseUrl, 'GET', '/api/v1/audit', bearer(token));

  it.each([
    ['alg none', () => `${part({ alg: 'none', typ: 'JWT' })}.${part(admin())}.`],
    ['alg None', () => `${part({ alg: 'None' })}.${part(admin())}.`],
    ['alg NONE', () => `${part({ alg: 'NONE' })}.${part(admin())}.`],
    [
      'alg none, the issuer kid and a signature',
      () => `${part({ alg: 'none', kid: 'test-key-1' })}.${part(admin())}.AAAA`,
    ],
    ['a header naming alg twice', () => `${part('{"alg":"RS256","alg":"none"}')}.${part(admin())}.`],
    [
      'HS256 keyed with the issuer public key (PEM)',
      () => hmacSigned(issuerKey.export({ type: 'spki', format: 'pem' }), admin()),
    ],
    [
      'HS256 keyed with the issuer public key (PKCS#1)',
      () => hmacSigned(issuerKey.export({ type: 'pkcs1', format: 'pem' }), admin()),
    ],
    [
      'HS256 keyed with the issuer JWK',
      () => hmacSigned(JSON.stringify(issuerKey.export({ format: 'jwk' })), admin()),
    ],
    ['HS256 with an empty key', () => hmacSigned('', admin())],
    ['a jku naming an attacker JWKS', () => signedByAttacker({ kid: 'test-key-1', jku: attackerJwksUrl })],
    ['an x5u naming an attacker', () => signedByAttacker({ kid: 'test-key-1', x5u: attackerJwksUrl })],
    [
      'an attacker key embedded (jwk)',
      () => signedByAttacker({ kid: 'test-key-1', jwk: { kty: 'RSA', n: attackerJwk.n, e: attackerJwk.e } }),
    ],
    ['a kid walking the file system', () => signedByAttacker({ kid: '../../../../dev/null' })],
    ['a kid with SQL', () => signedByAttacker({ kid: "x' UNION SELECT 'k' --" })],
    ['PS256 on the issuer RSA key', () => oidc.sign(admin(), { alg: 'PS256' })],
    [
      'roles raised on a real token of the provider',
      async () => {
        const [header, claims, signature] = (await oidc.token('nobody')).split('.');
        const raised = {
          ...(JSON.parse(Buffer.from(claims, 'base64url').toString()) as JWTPayload),
          roles: ['admin'],
        };
        return `${header}.${part(raised)}.${signature}`;
      },
    ],
    ['its signature stripped', async () => (await oidc.sign(admin())).replace(/[^.]+$/, '')],
    ['an ID token (aud = the client id)', () => oidc.sign(admin({ aud: 'admin' }))],
    ['aud with a trailing slash', () => oidc.sign(admin({ aud: `${oidc.audience}/` }))],
    ['iss with a trailing slash', () => oidc.sign(admin({ iss: `${oidc.issuer}/` }))],
    ['iss in capitals', () => oidc.sign(admin({ iss: oidc.issuer.toUpperCase() }))],
    ['exp as a string', () => oidc.sign(admin({ exp: String(inSeconds(600)) as unknown as number }))],
    ['exp null', () => oidc.sign(admin({ exp: null as unknown as number }))],
    ['nbf as a string', () => oidc.sign(admin({ nbf: String(inSeconds(600)) as unknown as number }))],
    ['sub missing', () => oidc.sign(admin({ sub: undefined }))],
    ['sub empty', () => oidc.sign(admin({ sub: '' }))],
    ['sub null', () => oidc.sign(admin({ sub: null as unknown as string }))],
    ['sub an object', () => oidc.sign(admin({ sub: { id: 'admin' } as unknown as string }))],
    ['sub a number', () => oidc.sign(admin({ sub: 42 as unknown as string }))],
    ['five parts (JWE-shaped)', () => 'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d'],
  ])('refuses a token with %s (401)', async (_, make) => {
    const answer = await onAudit(await make());
    expect(answer.status).toBe(401);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    expect(answer.body).not.toContain('"items"');
    expect(attackerJwksHits).toEqual([]);
  });

  it.each([
    ['superadmin', ['superadmin']],
    ['Admin', ['Admin']],
    ['"admin " with a space', ['admin ']],
    ['admin and a NUL', ['admin\u0000']],
    ['a nested array', [['admin']]],
    ['an object', { admin: true }],
    ['one string with commas', 'not-admin,admin-like'],
  ])('gives no admin role for roles %s (403)', async (_, roles) => {
    expect((await onAudit(await oidc.sign(admin({ roles })))).status).toBe(403);
  });

  it('reads roles from one space-separated string, as documented', async () => {
    expect((await onAudit(await oidc.sign(admin({ roles: 'operator admin' })))).status).toBe(200);
  });

  it('gives a caller without a pacslink role nothing: not the API docs, nor the route map, nor a ticket', async () => {
    const nobody = bearer(await oidc.token('nobody'));
    for (const target of [
      '/api/docs',
      '/api/docs/',
      '/api/docs/swagger-ui-init.js',
      '/api/docs-json',
      '/api/docs-yaml',
      '/api/v1/no-such-route',
      '/api/v1/settings',
    ]) {
      const answer = await raw(service.baseUrl, 'GET', target, nobody);
      expect({ target, status: answer.status }).toEqual({ target, status: 403 });
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(answer.body).not.toContain('openapi');
      expect(answer.body).toContain('the operator or admin role; the caller has none');
    }
    expect((await raw(service.baseUrl, 'POST', '/api/v1/events/tickets', nobody)).status).toBe(403);
    // An operator still reads the docs.
    const operator = bearer(await oidc.token('operator'));
    expect((await raw(service.baseUrl, 'GET', '/api/docs-json', operator)).status).toBe(200);
  });
});
