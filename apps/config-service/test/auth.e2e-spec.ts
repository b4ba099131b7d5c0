import { request as httpRequest } from 'node:http';
import { startOidcProvider, type TestOidcProvider } from '@pacslink/testing';
import {
  expectProblem,
  fingerprint,
  newApiKey,
  startConfigService,
  type RunningConfigService,
} from './config-service.harness';

const ADMIN_KEY = newApiKey();
const OPERATOR_KEY = newApiKey();

/** One HTTP request with the request target exactly as given: fetch would normalise it first. */
function raw(
  baseUrl: string,
  method: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path: target, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Spellings of protected paths that a router might take for the real thing. */
const SPELLINGS = [
  '/API/v1/pacs-configs',
  '/api/V1/settings',
  '/Api/v1/audit',
  '/api/v1/AUDIT',
  '/api/v1//settings',
  '//api/v1/settings',
  '/api/v1/settings/',
  '/api/v1/./settings',
  '/api/v1/../v1/settings',
  '/api/v1/%73ettings',
  '/api/v1/settings%2F',
  '/%61pi/v1/audit',
  '/api/v1/settings;x',
  '/api/v1/settings?x=/health/live',
  '/health/live/../../api/v1/settings',
  '/metrics/../api/v1/audit',
  '/health/live%2F..%2F..%2Fapi%2Fv1%2Fsettings',
  '/HEALTH/live',
  '/api/docs-json',
  '/api/docs',
  '/API/DOCS-JSON',
  '/api/v1/no-such-route',
  '/anything',
];

describe('authentication cannot be walked around (API keys)', () => {
  let service: RunningConfigService;

  beforeAll(async () => {
    service = await startConfigService({ apiKey: ADMIN_KEY, apiKeys: [`${OPERATOR_KEY}:operator`] });
    // Something to leak, if anything leaked.
    await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'SECRET_PACS',
      name: 'n',
      host: '127.0.0.1',
      port: 104,
    });
  });
  afterAll(() => service?.stop());

  it.each(SPELLINGS)('answers GET %s without a caller with 401 problem+json and no data', async (target) => {
    const response = await raw(service.baseUrl, 'GET', target);
    expect(response.status).toBe(401);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(response.body).not.toContain('SECRET_PACS');
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])(
    'answers %s on a public path without a caller with 401',
    async (method) => {
      expect((await raw(service.baseUrl, method, '/metrics')).status).toBe(401);
    },
  );

  it('leaves exactly /health/live, /health/ready and /metrics open', async () => {
    for (const target of ['/health/live', '/metrics'])
      expect((await raw(service.baseUrl, 'GET', target)).status).toBe(200);
    // Ready or not ready, but answered without a caller.
    const ready = await raw(service.baseUrl, 'GET', '/health/ready');
    expect([200, 503]).toContain(ready.status);
    expect(ready.body).toContain('"status"');
  });

  it('routes only the exact spelling, even for a caller with a key', async () => {
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };
    expect((await raw(service.baseUrl, 'GET', '/api/v1/settings', auth)).status).toBe(200);
    expect((await raw(service.baseUrl, 'GET', '/API/v1/settings', auth)).status).toBe(404);
    expect((await raw(service.baseUrl, 'GET', '/api/v1/settings/', auth)).status).toBe(404);
  });

  it('lets an operator use the suite and not change it (403, audited)', async () => {
    const id = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'OPS_PACS',
      name: 'n',
      host: '127.0.0.1',
      port: 105,
    });
    const asOperator = (method: string, path: string, body?: unknown) =>
      service.call(method, path, body, OPERATOR_KEY);
    for (const path of [
      '/settings',
      '/local-ae-titles',
      '/pacs-configs',
      `/pacs-configs/${id}`,
      '/studies',
      '/transfers',
    ])
      expect((await asOperator('GET', path)).status).toBe(200);
    await expectProblem(
      await asOperator('PUT', '/settings', { allowTransfer: true, defaultCallingAeTitle: 'X' }),
      403,
    );
    await expectProblem(await asOperator('POST', '/local-ae-titles', { aeTitle: 'OPS' }), 403);
    await expectProblem(await asOperator('DELETE', '/local-ae-titles/PACSLINK'), 403);
    await expectProblem(
      await asOperator('POST', '/pacs-configs', {
        type: 'dimse',
        aeTitle: 'OPS2',
        name: 'n',
        host: 'h',
        port: 1,
      }),
      403,
    );
    await expectProblem(await asOperator('PATCH', `/pacs-configs/${id}`, { name: 'renamed' }), 403);
    await expectProblem(await asOperator('DELETE', `/pacs-configs/${id}`), 403);
    const forbidden = await expectProblem(await asOperator('GET', '/audit'), 403);
    expect(forbidden.detail).toBe('this needs the admin role; the caller has operator');
    // The configuration is untouched.
    const config = (await (await service.call('GET', `/pacs-configs/${id}`)).json()) as { name: string };
    expect(config.name).toBe('n');

    const refused = (await service.auditEntries()).filter((entry) => entry.action === 'auth.refused');
    expect(refused).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: fingerprint(OPERATOR_KEY),
          change: expect.objectContaining({
            status: 403,
            method: 'PATCH',
            path: `/api/v1/pacs-configs/${id}`,
          }) as unknown,
        }),
        expect.objectContaining({
          actor: 'unauthenticated',
          change: expect.objectContaining({
            status: 401,
            method: 'GET',
            path: '/API/v1/pacs-configs',
          }) as unknown,
        }),
      ]),
    );
    expect(JSON.stringify(refused)).not.toContain(OPERATOR_KEY);
  });

  it('issues single-use event tickets that open only GET /api/v1/events', async () => {
    const issued = await service.call('POST', '/events/tickets', undefined, OPERATOR_KEY);
    expect(issued.status).toBe(201);
    const { ticket, expiresAt } = (await issued.json()) as { ticket: string; expiresAt: string };
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);

    // On another route, or another spelling of this one, a ticket is no credential (and stays unspent).
    expect((await raw(service.baseUrl, 'GET', `/api/v1/settings?ticket=${ticket}`)).status).toBe(401);
    expect((await raw(service.baseUrl, 'GET', `/api/v1/Events?ticket=${ticket}`)).status).toBe(401);
    expect((await raw(service.baseUrl, 'GET', `/api/v1/events/?ticket=${ticket}`)).status).toBe(401);

    const stream = new AbortController();
    const opened = await fetch(`${service.baseUrl}/api/v1/events?ticket=${encodeURIComponent(ticket)}`, {
      signal: stream.signal,
    });
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toMatch(/^text\/event-stream/);
    stream.abort();

    const again = await raw(service.baseUrl, 'GET', `/api/v1/events?ticket=${encodeURIComponent(ticket)}`);
    expect(again.status).toBe(401);
    expect(again.body).toContain('already used or expired');
  });

  it('answers 503 problem+json when a ticket cannot be checked (its table unreadable), never an error page', async () => {
    const sql = await service.connectSql();
    await sql.query(`ALTER TABLE event_ticket RENAME TO event_ticket_away`);
    try {
      const response = await raw(service.baseUrl, 'GET', '/api/v1/events?ticket=anything');
      expect(response.status).toBe(503);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body).toContain('cannot be checked right now');
    } finally {
      await sql.query(`ALTER TABLE event_ticket_away RENAME TO event_ticket`);
    }
  });

  it('refuses an expired ticket', async () => {
    const { ticket } = (await (
      await service.call('POST', '/events/tickets', undefined, OPERATOR_KEY)
    ).json()) as {
      ticket: string;
    };
    const sql = await service.connectSql();
    await sql.query(`UPDATE event_ticket SET expires_at = now() - interval '1 second'`);
    expect(
      (await raw(service.baseUrl, 'GET', `/api/v1/events?ticket=${encodeURIComponent(ticket)}`)).status,
    ).toBe(401);
  });
});

describe('API docs configured public', () => {
  let service: RunningConfigService;
  beforeAll(async () => {
    service = await startConfigService({ env: { API_DOCS_PUBLIC: 'true' } });
  });
  afterAll(() => service?.stop());

  it('serves the docs without a caller, and nothing else', async () => {
    expect((await raw(service.baseUrl, 'GET', '/api/docs-json')).status).toBe(200);
    expect((await raw(service.baseUrl, 'GET', '/api/docs')).status).toBe(200);
    for (const target of ['/api/docs/../v1/settings', '/api/docs/%2e%2e/v1/audit', '/api/v1/settings'])
      expect((await raw(service.baseUrl, 'GET', target)).status).toBe(401);
  });
});

describe('OpenID Connect bearer tokens from a real provider', () => {
  let oidc: TestOidcProvider;
  let service: RunningConfigService;

  beforeAll(async () => {
    oidc = await startOidcProvider();
    service = await startConfigService({
      env: { OIDC_ISSUER_URL: oidc.issuer, OIDC_AUDIENCE: oidc.audience },
    });
  });
  afterAll(async () => {
    await service?.stop();
    await oidc?.stop();
  });

  const withToken = (token: string, method: string, path: string, body?: unknown) =>
    service.call(method, path, body, token);

  it('accepts an admin token and audits the person by sub and name', async () => {
    const token = await oidc.token('admin');
    const response = await withToken(token, 'POST', '/local-ae-titles', { aeTitle: 'OIDC_AE' });
    expect(response.status).toBe(201);
    const entry = (await service.auditEntries()).find((item) => item.action === 'local-ae-title.created');
    expect(entry).toMatchObject({ actor: 'oidc:admin', actorName: 'Ada Admin' });
  });

  it('lets an operator token read and transfer but not configure (403)', async () => {
    const token = await oidc.token('operator');
    expect((await withToken(token, 'GET', '/pacs-configs')).status).toBe(200);
    expect((await withToken(token, 'POST', '/events/tickets')).status).toBe(201);
    await expectProblem(
      await withToken(token, 'PUT', '/settings', { allowTransfer: true, defaultCallingAeTitle: 'PACSLINK' }),
      403,
    );
  });

  it('refuses a token without a pacslink role (403)', async () => {
    await expectProblem(await withToken(await oidc.token('nobody'), 'GET', '/settings'), 403);
  });

  it.each([
    ['for another audience', () => oidc.token('admin', 'https://other.test/api'), 'another audience'],
    ['unsigned (alg none)', () => unsigned({ sub: 'admin', roles: ['admin'] }), 'not'],
    [
      'from another issuer',
      () =>
        oidc.sign({
          iss: 'https://evil.test',
          aud: oidc.audience,
          sub: 'admin',
          roles: ['admin'],
          exp: inSeconds(600),
        }),
      'another issuer',
    ],
    [
      'not valid yet',
      () =>
        oidc.sign({
          iss: oidc.issuer,
          aud: oidc.audience,
          sub: 'admin',
          roles: ['admin'],
          nbf: inSeconds(600),
          exp: inSeconds(1200),
        }),
      'not valid yet',
    ],
    [
      'expired',
      () =>
        oidc.sign({
          iss: oidc.issuer,
          aud: oidc.audience,
          sub: 'admin',
          roles: ['admin'],
          exp: inSeconds(-60),
        }),
      'expired',
    ],
    [
      'without exp',
      () => oidc.sign({ iss: oidc.issuer, aud: oidc.audience, sub: 'admin', roles: ['admin'] }),
      'exp',
    ],
    [
      'signed by a key the issuer does not publish',
      () =>
        oidc.sign(
          { iss: oidc.issuer, aud: oidc.audience, sub: 'admin', roles: ['admin'], exp: inSeconds(600) },
          { kid: 'other-key' },
        ),
      'signature',
    ],
  ])('refuses a token %s with 401', async (_, make, reason) => {
    const problem = await expectProblem(await withToken(await make(), 'GET', '/settings'), 401);
    expect(problem.detail).toContain(reason);
  });

  it('refuses a token of the provider once it has expired', async () => {
    const token = await oidc.token('brief'); // 1 s lifetime; 5 s of clock skew are allowed
    expect((await withToken(token, 'GET', '/settings')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    expect((await expectProblem(await withToken(token, 'GET', '/settings'), 401)).detail).toContain(
      'expired',
    );
  }, 20_000);

  it('ends an event stream when the token that opened it expires, directly or through a ticket', async () => {
    const token = await oidc.token('brief'); // 1 s lifetime
    const { ticket } = (await (await withToken(token, 'POST', '/events/tickets')).json()) as {
      ticket: string;
    };
    const opened = Date.now();
    const [byToken, byTicket] = await Promise.all([
      fetch(`${service.baseUrl}/api/v1/events`, { headers: { authorization: `Bearer ${token}` } }),
      fetch(`${service.baseUrl}/api/v1/events?ticket=${encodeURIComponent(ticket)}`),
    ]);
    expect([byToken.status, byTicket.status]).toEqual([200, 200]);
    // Each body ends (the stream closes) once the token's exp has passed, not 15 s of heartbeats later.
    const [first, second] = await Promise.all([byToken.text(), byTicket.text()]);
    expect(Date.now() - opened).toBeLessThan(5_000);
    expect(first).toContain(': credentials expired');
    expect(second).toContain(': credentials expired');
  }, 20_000);

  it('still accepts API keys beside tokens', async () => {
    expect((await service.call('GET', '/settings')).status).toBe(200);
  });
});

describe('OpenID Connect with the identity provider unreachable', () => {
  let service: RunningConfigService;
  beforeAll(async () => {
    service = await startConfigService({
      env: { OIDC_ISSUER_URL: 'http://127.0.0.1:9/', OIDC_AUDIENCE: 'https://pacslink.test/api' },
    });
  });
  afterAll(() => service?.stop());

  it('answers a token with 503 naming the provider, and API keys still work', async () => {
    const token = unsigned({ sub: 'x' }).replace(/\.$/, '.c2ln');
    const problem = await expectProblem(await service.call('GET', '/settings', undefined, token), 503);
    expect(problem.detail).toContain('http://127.0.0.1:9/.well-known/openid-configuration');
    expect((await service.call('GET', '/settings')).status).toBe(200);
  });
});

function inSeconds(seconds: number): number {
  return Math.floor(Date.now() / 1000) + seconds;
}

function unsigned(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ exp: inSeconds(600), ...claims })}.`;
}
