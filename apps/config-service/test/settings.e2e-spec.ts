import { createHash, randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { loadEnv, runService } from '@pacslink/platform';
import {
  baseUrlOf,
  createTestDatabase,
  createTestVhost,
  type TestDatabase,
  type TestVhost,
} from '@pacslink/testing';
import { AppModule } from '../src/app.module';
import { CONFIG_SERVICE, ConfigServiceEnv } from '../src/config';
import { configureHttp } from '../src/http/configure-http';

const API_KEY = `settings-test-${randomBytes(12).toString('hex')}`;
/** The audit names an API key by the first 12 hex digits of its SHA-256, never by the key. */
const ACTOR = `key:${createHash('sha256').update(API_KEY).digest('hex').slice(0, 12)}`;
// Typed as unknown: jest's asymmetric matchers are `any`, which the lint rules keep out of objects.
const A_STRING: unknown = expect.any(String);

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

interface AuditItem {
  actor: string;
  action: string;
  entityType: string;
  entityId: string | null;
  change: Record<string, unknown>;
}

describe('settings (GET/PUT /api/v1/settings)', () => {
  let database: TestDatabase;
  let vhost: TestVhost;
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const env = loadEnv(ConfigServiceEnv, {
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      LOG_LEVEL: 'silent',
      SECRETS_KEY: randomBytes(32).toString('base64'),
      API_KEYS: API_KEY,
    });
    app = await runService(AppModule.forRoot(env), {
      service: CONFIG_SERVICE,
      port: 0,
      configure: configureHttp,
    });
    baseUrl = baseUrlOf(app);
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([database?.drop(), vhost?.drop()]);
  });

  function call(
    method: string,
    path: string,
    body?: unknown,
    key: string | null = API_KEY,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  const putSettings = (body: unknown) => call('PUT', '/settings', body);

  async function getSettings(): Promise<unknown> {
    const response = await call('GET', '/settings');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return response.json();
  }

  async function expectProblem(response: Response, status: number): Promise<Problem> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as Problem;
    expect(problem).toMatchObject({
      type: A_STRING,
      title: A_STRING,
      status,
      detail: A_STRING,
    });
    return problem;
  }

  /** A 400 whose `errors` list names `field` (and only known fields). */
  async function expectFieldError(response: Response, field: string): Promise<Problem> {
    const problem = await expectProblem(response, 400);
    expect(problem.type).toBe('https://pacslink.dev/problems/validation');
    expect(problem.errors).toEqual(
      expect.arrayContaining([{ field, message: expect.stringContaining(field) as unknown }]),
    );
    return problem;
  }

  async function auditEntries(): Promise<AuditItem[]> {
    const response = await call('GET', '/audit?limit=500');
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: AuditItem[] }).items;
  }

  async function createLocalAeTitle(aeTitle: string): Promise<void> {
    expect((await call('POST', '/local-ae-titles', { aeTitle })).status).toBe(201);
  }

  it('starts with transfers off and PACSLINK, a local AE title, as the default calling AE title', async () => {
    expect(await getSettings()).toEqual({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    const titles = (await (await call('GET', '/local-ae-titles')).json()) as { items: { aeTitle: string }[] };
    expect(titles.items.map((item) => item.aeTitle)).toContain('PACSLINK');
  });

  it('accepts the defaults back unchanged, and a no-op PUT writes no audit entry', async () => {
    const before = await auditEntries();
    const response = await putSettings({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    expect(await auditEntries()).toHaveLength(before.length);
  });

  it('stores a PUT and answers it, and audits the change with the caller as actor', async () => {
    await createLocalAeTitle('Viewer_1');
    const response = await putSettings({ allowTransfer: true, defaultCallingAeTitle: 'Viewer_1' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ allowTransfer: true, defaultCallingAeTitle: 'Viewer_1' });
    expect(await getSettings()).toEqual({ allowTransfer: true, defaultCallingAeTitle: 'Viewer_1' });

    const [latest] = await auditEntries();
    expect(latest).toMatchObject({
      actor: ACTOR,
      action: 'settings.updated',
      entityType: 'settings',
      change: {
        before: { allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' },
        after: { allowTransfer: true, defaultCallingAeTitle: 'Viewer_1' },
      },
    });
  });

  it('matches defaultCallingAeTitle case-insensitively after trimming, storing the local title as spelled', async () => {
    await createLocalAeTitle('Reading Room');
    const response = await putSettings({ allowTransfer: true, defaultCallingAeTitle: '  READING room ' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ allowTransfer: true, defaultCallingAeTitle: 'Reading Room' });
    expect(await getSettings()).toEqual({ allowTransfer: true, defaultCallingAeTitle: 'Reading Room' });
    const [latest] = await auditEntries();
    expect(latest).toMatchObject({
      action: 'settings.updated',
      change: { after: { allowTransfer: true, defaultCallingAeTitle: 'Reading Room' } },
    });
  });

  it('switches transfers off again', async () => {
    const response = await putSettings({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    expect(response.status).toBe(200);
    expect(await getSettings()).toEqual({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
  });

  describe('refuses, with 400 naming the field, and changes nothing', () => {
    let auditBefore: number;
    beforeEach(async () => {
      auditBefore = (await auditEntries()).length;
    });
    afterEach(async () => {
      expect(await getSettings()).toEqual({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
      expect(await auditEntries()).toHaveLength(auditBefore);
    });

    it.each([
      ['the string "true"', 'true'],
      ['the string "false"', 'false'],
      ['the number 1', 1],
      ['null', null],
    ])('allowTransfer as %s', async (_, allowTransfer) => {
      await expectFieldError(
        await putSettings({ allowTransfer, defaultCallingAeTitle: 'PACSLINK' }),
        'allowTransfer',
      );
    });

    it('an unknown field', async () => {
      const problem = await expectFieldError(
        await putSettings({ allowTransfer: true, defaultCallingAeTitle: 'PACSLINK', colour: 'blue' }),
        'colour',
      );
      expect(problem.detail).toMatch(/colour/);
    });

    it('a missing allowTransfer', async () => {
      await expectFieldError(await putSettings({ defaultCallingAeTitle: 'PACSLINK' }), 'allowTransfer');
    });

    it('a missing defaultCallingAeTitle', async () => {
      await expectFieldError(await putSettings({ allowTransfer: true }), 'defaultCallingAeTitle');
    });

    it('an empty body', async () => {
      const problem = await expectFieldError(await putSettings({}), 'allowTransfer');
      expect(problem.errors?.map((error) => error.field)).toContain('defaultCallingAeTitle');
    });

    it('a defaultCallingAeTitle that is not a local AE title, listing those that are', async () => {
      const problem = await expectFieldError(
        await putSettings({ allowTransfer: true, defaultCallingAeTitle: 'NOT_LOCAL' }),
        'defaultCallingAeTitle',
      );
      expect(problem.detail).toMatch(/"NOT_LOCAL" is not a local AE title/);
      expect(problem.detail).toMatch(/"PACSLINK"/);
      expect(problem.detail).toMatch(/"Reading Room"/);
      expect(problem.detail).toMatch(/"Viewer_1"/);
    });

    it.each([
      ['empty', ''],
      ['all spaces', '    '],
      ['17 characters', 'ABCDEFGHIJKLMNOPQ'],
      ['a backslash', 'PACS\\LINK'],
      ['a tab', 'PACS\tLINK'],
      ['non-ASCII letters', 'ÄRZTE'],
      ['a number', 42],
    ])('a defaultCallingAeTitle that is not a valid AE title: %s', async (_, defaultCallingAeTitle) => {
      await expectFieldError(
        await putSettings({ allowTransfer: true, defaultCallingAeTitle }),
        'defaultCallingAeTitle',
      );
    });

    it('a JSON array instead of an object', async () => {
      expect((await putSettings([{ allowTransfer: true, defaultCallingAeTitle: 'PACSLINK' }])).status).toBe(
        400,
      );
    });
  });

  it('never leaves the default pointing at a deleted local AE title when a PUT and a DELETE race', async () => {
    for (let round = 0; round < 5; round++) {
      const title = `RACE_${round}`;
      await createLocalAeTitle(title);
      const [put, del] = await Promise.all([
        putSettings({ allowTransfer: false, defaultCallingAeTitle: title }),
        call('DELETE', `/local-ae-titles/${title}`),
      ]);
      const settings = (await getSettings()) as { defaultCallingAeTitle: string };
      const titles = (await (await call('GET', '/local-ae-titles?limit=500')).json()) as {
        items: { aeTitle: string }[];
      };
      expect(titles.items.map((item) => item.aeTitle)).toContain(settings.defaultCallingAeTitle);
      if (put.status === 200) {
        // The PUT won: the title is the default and cannot be deleted.
        expect(del.status).toBe(409);
        expect(settings.defaultCallingAeTitle).toBe(title);
        await expectProblem(del, 409);
      } else {
        expect(del.status).toBe(204);
        await expectFieldError(put, 'defaultCallingAeTitle');
      }
      expect((await putSettings({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' })).status).toBe(
        200,
      );
    }
  });

  describe('authentication', () => {
    it.each([
      ['no Authorization header', null, 'authentication required'],
      ['a wrong API key', 'not-the-key', 'authentication failed'],
    ])('answers 401 problem+json to %s', async (_, key, title) => {
      for (const [method, body] of [
        ['GET', undefined],
        ['PUT', { allowTransfer: true, defaultCallingAeTitle: 'PACSLINK' }],
      ] as const) {
        const problem = await expectProblem(await call(method, '/settings', body, key), 401);
        expect(problem.title).toBe(title);
      }
      expect(await getSettings()).toEqual({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    });

    it('answers 401 to a header that is not "Bearer <key>"', async () => {
      const response = await fetch(`${baseUrl}/api/v1/settings`, {
        headers: { authorization: `Basic ${Buffer.from(`x:${API_KEY}`).toString('base64')}` },
      });
      await expectProblem(response, 401);
    });
  });

  it('audits every settings change with the key fingerprint, never the key', async () => {
    const entries = (await auditEntries()).filter((entry) => entry.action === 'settings.updated');
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const entry of entries) {
      expect(entry.actor).toBe(ACTOR);
      expect(JSON.stringify(entry)).not.toContain(API_KEY);
    }
  });

  it('documents GET and PUT /settings, every field and every error, in OpenAPI', async () => {
    const document = (await (await fetch(`${baseUrl}/api/docs-json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
    };
    const path = document.paths['/api/v1/settings'];
    expect(Object.keys(path.get.responses)).toEqual(expect.arrayContaining(['200', '401']));
    expect(Object.keys(path.put.responses)).toEqual(expect.arrayContaining(['200', '400', '401']));
    expect(path.put.security).toEqual([{ bearer: [] }]);
    expect(JSON.stringify(path.put.responses['400'])).toMatch(/application\/problem\+json/);
    const { schemas } = document.components;
    expect(Object.keys(schemas.SettingsResponse.properties).sort()).toEqual([
      'allowTransfer',
      'defaultCallingAeTitle',
    ]);
    expect(schemas.UpdateSettingsRequest.required?.sort()).toEqual([
      'allowTransfer',
      'defaultCallingAeTitle',
    ]);
    expect(Object.keys(schemas.ValidationProblemResponse.properties)).toContain('errors');
  });
});
