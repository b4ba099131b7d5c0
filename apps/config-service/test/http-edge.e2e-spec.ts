import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfigServiceEnv } from '../src/config';
import { newApiKey, startConfigService, type RunningConfigService } from './config-service.harness';

const API_KEY = newApiKey();
const KEY = randomBytes(32).toString('base64');

describe('config-service HTTP edge: authentication, bodies, audit', () => {
  let service: RunningConfigService;
  let baseUrl: string;

  beforeAll(async () => {
    service = await startConfigService({
      apiKey: API_KEY,
      apiKeys: ['other-key'],
      env: { JSON_BODY_LIMIT: '4kb' },
    });
    baseUrl = service.baseUrl;
  });

  afterAll(() => service?.stop());

  const authorized = { authorization: `Bearer ${API_KEY}` };

  async function problem(response: Response): Promise<Record<string, unknown>> {
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return (await response.json()) as Record<string, unknown>;
  }

  it.each([
    ['no Authorization header', {}, 'authentication required'],
    ['a wrong key', { authorization: 'Bearer not-the-key' }, 'authentication failed'],
    ['another scheme', { authorization: `Basic ${API_KEY}` }, 'authentication required'],
    ['a key with a suffix', { authorization: `Bearer ${API_KEY}x` }, 'authentication failed'],
  ])('refuses %s with 401 problem+json', async (_, headers, title) => {
    const response = await fetch(`${baseUrl}/api/v1/audit`, { headers });
    expect(response.status).toBe(401);
    expect(await problem(response)).toMatchObject({ status: 401, title });
  });

  it('accepts any of the configured keys, and leaves health and metrics open but not the docs', async () => {
    expect((await fetch(`${baseUrl}/api/v1/audit`, { headers: authorized })).status).toBe(200);
    expect(
      (await fetch(`${baseUrl}/api/v1/audit`, { headers: { authorization: 'Bearer other-key' } })).status,
    ).toBe(200);
    for (const path of ['/health/live', '/metrics']) {
      expect((await fetch(`${baseUrl}${path}`)).status).toBe(200);
    }
    expect((await fetch(`${baseUrl}/api/docs-json`)).status).toBe(401);
    expect((await fetch(`${baseUrl}/api/docs-json`, { headers: authorized })).status).toBe(200);
  });

  it('answers malformed JSON with 400 problem+json, not 500', async () => {
    const response = await fetch(`${baseUrl}/api/v1/audit`, {
      method: 'POST',
      headers: { ...authorized, 'content-type': 'application/json' },
      body: '{"allowTransfer": tru',
    });
    expect(response.status).toBe(400);
    expect(await problem(response)).toMatchObject({ status: 400 });
  });

  it('answers a body over the limit with 413 problem+json', async () => {
    const response = await fetch(`${baseUrl}/api/v1/audit`, {
      method: 'POST',
      headers: { ...authorized, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(8_000) }),
    });
    expect(response.status).toBe(413);
    expect(await problem(response)).toMatchObject({ status: 413 });
  });

  it('validates paging parameters, naming the bad one', async () => {
    const response = await fetch(`${baseUrl}/api/v1/audit?limit=0&offset=-1`, { headers: authorized });
    expect(response.status).toBe(400);
    const body = await problem(response);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'limit' }),
        expect.objectContaining({ field: 'offset' }),
      ]) as unknown,
    );
  });

  it('keeps the audit log append-only in the database itself', async () => {
    const dataSource = service.app.get(DataSource);
    await dataSource.query(
      `INSERT INTO audit_entry (actor, action, entity_type, change) VALUES ('test', 'test.done', 'test', '{}')`,
    );
    await expect(dataSource.query(`UPDATE audit_entry SET actor = 'someone else'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(dataSource.query(`DELETE FROM audit_entry`)).rejects.toThrow(/append-only/);
    await expect(dataSource.query(`TRUNCATE audit_entry`)).rejects.toThrow(/append-only/);
    const page = (await (await fetch(`${baseUrl}/api/v1/audit`, { headers: authorized })).json()) as {
      items: { action: string }[];
      total: number;
    };
    expect(page.items.map((item) => item.action)).toContain('test.done');
  });

  it('refuses to start in production without SECRETS_KEY and a way to authenticate', () => {
    expect(() => loadConfigServiceEnv({ NODE_ENV: 'production' })).toThrow(
      /SECRETS_KEY must be set[\s\S]*API_KEYS or OIDC_ISSUER_URL must be set/,
    );
    expect(() =>
      loadConfigServiceEnv({ NODE_ENV: 'production', SECRETS_KEY: KEY, API_KEYS: 'k' }),
    ).not.toThrow();
    expect(() =>
      loadConfigServiceEnv({
        NODE_ENV: 'production',
        SECRETS_KEY: KEY,
        OIDC_ISSUER_URL: 'https://idp.example/realms/h',
        OIDC_AUDIENCE: 'pacslink',
      }),
    ).not.toThrow();
    expect(() =>
      loadConfigServiceEnv({
        NODE_ENV: 'production',
        SECRETS_KEY: KEY,
        OIDC_ISSUER_URL: 'http://idp',
        OIDC_AUDIENCE: 'a',
      }),
    ).toThrow(/OIDC_ISSUER_URL must be https/);
  });

  it('names a bad API_KEYS entry by its position, never by its key', () => {
    const attempt = () => loadConfigServiceEnv({ API_KEYS: 'good-key, sekrit-key:superuser' });
    expect(attempt).toThrow(/API_KEYS entry 2: the role after the last ":" must be admin or operator/);
    expect(attempt).not.toThrow(/sekrit/);
    expect(() => loadConfigServiceEnv({ OIDC_ISSUER_URL: 'https://idp' })).toThrow(
      /OIDC_ISSUER_URL and OIDC_AUDIENCE go together/,
    );
  });
});
