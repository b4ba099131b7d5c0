import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Client } from 'pg';
import { waitUntilReady } from '@pacslink/testing';
import { CONFIG_SERVICE } from '../src/config';
import { SecretCipher, SecretDecryptionError } from '@pacslink/secrets';
import { expectProblem, startConfigService, type RunningConfigService } from './config-service.harness';

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  body: Json;
}

/** A distinctive secret: hex and hyphens only, so it is also a literal LIKE pattern. */
const secret = (label: string) => `${label}-${randomBytes(8).toString('hex')}`;
const S = {
  password1: secret('password-one'),
  password2: secret('password-two'),
  password3: secret('password-three'),
  refusedPassword: secret('password-refused'),
  clashPassword: secret('password-clash'),
  token1: secret('token-one'),
  token2: secret('token-two'),
  refusedToken: secret('token-refused'),
  deletedToken: secret('token-deleted'),
  clientSecret1: secret('client-secret-one'),
  movedPassword: secret('password-moved'),
  pathPassword: secret('password-path'),
  movedToken: secret('token-moved'),
  movedClientSecret: secret('client-secret-moved'),
};
const SECRETS = Object.values(S);
const MARKER_USER = secret('scan-marker-user');

/** Where a secret would show if it leaked: as given, and base64 (as in a Basic header). */
const leakForms = SECRETS.flatMap((value) => [value, Buffer.from(value).toString('base64')]);
function leaksIn(text: string): string[] {
  return leakForms.filter((form) => text.includes(form));
}

describe('PACS configuration secrets: write-only, encrypted at rest, never answered, logged or published', () => {
  let service: RunningConfigService;
  let sql: Client;
  const answers: string[] = [];
  const published: string[] = [];
  const logged: string[] = [];
  const ids: Record<string, string> = {};

  /**
   * Captures everything the service writes: pino writes to process.stdout when its `write` has
   * been replaced (as here), else straight to file descriptor 1 through fs (sonic-boom); TypeORM
   * prints failed queries with console. The service's own lines are kept out of the test output
   * (TEST_LOGS=1 shows them).
   */
  function captureLogs(): void {
    const text = (data: unknown): string =>
      typeof data === 'string'
        ? data
        : ArrayBuffer.isView(data)
          ? Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')
          : String(data);
    const ours = (line: string) => line.includes(`"service":"${CONFIG_SERVICE}"`) && !process.env.TEST_LOGS;
    const done = (rest: unknown[]) => {
      const callback = rest[rest.length - 1];
      if (typeof callback === 'function') process.nextTick(callback);
    };
    for (const stream of [process.stdout, process.stderr]) {
      const realWrite = stream.write.bind(stream) as (...args: unknown[]) => boolean;
      jest.spyOn(stream, 'write').mockImplementation((data: unknown, ...rest: unknown[]) => {
        const line = text(data);
        logged.push(line);
        if (!ours(line)) return realWrite(data, ...rest);
        done(rest);
        return true;
      });
    }
    const realWriteSync = fs.writeSync.bind(fs) as (...args: unknown[]) => number;
    const realFsWrite = fs.write.bind(fs) as (...args: unknown[]) => void;
    jest.spyOn(fs, 'writeSync').mockImplementation((fd: number, data: unknown, ...rest: unknown[]) => {
      if (fd !== 1 && fd !== 2) return realWriteSync(fd, data, ...rest);
      const line = text(data);
      logged.push(line);
      return ours(line) ? Buffer.byteLength(line) : realWriteSync(fd, data, ...rest);
    });
    jest.spyOn(fs, 'write').mockImplementation((fd: number, data: unknown, ...rest: unknown[]) => {
      if (fd !== 1 && fd !== 2) return realFsWrite(fd, data, ...rest);
      const line = text(data);
      logged.push(line);
      if (!ours(line)) return realFsWrite(fd, data, ...rest);
      const callback = rest[rest.length - 1];
      if (typeof callback === 'function') {
        process.nextTick(callback, null, Buffer.byteLength(line), data);
      }
    });
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        logged.push(
          args
            .map((arg) => (arg instanceof Error ? `${arg.message} ${arg.stack}` : JSON.stringify(arg)))
            .join(' '),
        );
      });
    }
  }

  beforeAll(async () => {
    service = await startConfigService({
      // The most talkative level: whatever is logged at any level must be free of secrets.
      env: { LOG_LEVEL: 'trace' },
      // Before boot, as pino chooses where it writes when the service starts.
      beforeBoot: captureLogs,
    });
    expect((await waitUntilReady(service.baseUrl)).status).toBe(200);

    await service.subscribe('#', (body) => published.push(body));

    sql = await service.connectSql();
  });

  afterAll(async () => {
    await service?.stop();
    jest.restoreAllMocks();
  });

  async function call(method: string, path: string, body?: unknown): Promise<Answer> {
    const response = await service.call(method, path, body);
    const text = await response.text();
    answers.push(`${method} ${path} ${response.status} ${[...response.headers].join(' ')} ${text}`);
    return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
  }

  let counter = 0;
  const dicomweb = (auth: unknown, overrides: Json = {}): Json => ({
    type: 'dicomweb',
    aeTitle: `SECRET_${++counter}`,
    name: 'Secured DICOMweb',
    url: 'https://pacs.example.org/dicom-web',
    auth,
    ...overrides,
  });
  const basic = (username: string, password?: string) => ({ method: 'basic', username, password });
  const oauth2 = (clientSecret?: string, overrides: Json = {}) => ({
    method: 'oauth2-client-credentials',
    tokenUrl: 'https://auth.example.org/token',
    clientId: 'pacslink',
    clientSecret,
    ...overrides,
  });

  async function storedSecret(id: string): Promise<string | null> {
    const { rows } = await sql.query<{ auth_secret: string | null }>(
      'SELECT auth_secret FROM pacs_config WHERE id = $1',
      [id],
    );
    return rows[0].auth_secret;
  }

  /** Where the configurations below send their secrets (SecretCipher's destination). */
  const PACS = 'https://pacs.example.org:443';
  const IDP = 'https://auth.example.org:443';
  const decrypt = (
    stored: string | null,
    rowId: string,
    field: string,
    destination = field === 'clientSecret' ? `${PACS} with tokens from ${IDP}` : PACS,
  ) =>
    service.app.get(SecretCipher).decrypt(stored ?? '', { table: 'pacs_config', rowId, field, destination });

  it('creates, rotates, keeps, switches and clears secrets through the API', async () => {
    const created = async (body: Json): Promise<Json> => {
      const answer = await call('POST', '/pacs-configs', body);
      expect(answer.status).toBe(201);
      return answer.body;
    };
    const patched = async (id: string, body: Json, status = 200): Promise<Json> => {
      const answer = await call('PATCH', `/pacs-configs/${id}`, body);
      expect([answer.status, answer.body]).toEqual([status, expect.anything()]);
      return answer.body;
    };

    const withBasic = await created(dicomweb(basic(MARKER_USER, S.password1)));
    ids.basic = withBasic.id as string;
    expect(withBasic.auth).toEqual({ method: 'basic', username: MARKER_USER, passwordSet: true });
    const withBearer = await created(dicomweb({ method: 'bearer', token: S.token1 }));
    ids.bearer = withBearer.id as string;
    expect(withBearer.auth).toEqual({ method: 'bearer', tokenSet: true });
    const withOauth = await created(dicomweb(oauth2(S.clientSecret1, { scope: 'read' })));
    ids.oauth = withOauth.id as string;
    expect(withOauth.auth).toEqual({
      method: 'oauth2-client-credentials',
      tokenUrl: 'https://auth.example.org/token',
      clientId: 'pacslink',
      scope: 'read',
      clientSecretSet: true,
    });

    // rotate, then PATCH without the password: same method and user keep it
    await patched(ids.basic, { auth: basic(MARKER_USER, S.password2) });
    expect(await patched(ids.basic, { auth: basic(MARKER_USER), name: 'kept' })).toMatchObject({
      auth: { method: 'basic', username: MARKER_USER, passwordSet: true },
    });
    expect(decrypt(await storedSecret(ids.basic), ids.basic, 'password')).toBe(S.password2);
    // another user, or another method, needs its own secret
    const otherUser = await patched(ids.basic, { auth: basic('someone-else') }, 400);
    expect(otherUser.errors).toEqual([expect.objectContaining({ field: 'auth.password' })]);
    expect((await patched(ids.bearer, { auth: basic('u') }, 400)).errors).toEqual([
      expect.objectContaining({ field: 'auth.password' }),
    ]);
    expect((await patched(ids.basic, { auth: { method: 'bearer' } }, 400)).errors).toEqual([
      expect.objectContaining({ field: 'auth.token' }),
    ]);
    await patched(ids.bearer, { auth: { method: 'bearer' }, name: 'token kept' });
    expect(decrypt(await storedSecret(ids.bearer), ids.bearer, 'token')).toBe(S.token1);
    await patched(ids.bearer, { auth: basic('switched', S.password3) });
    expect(decrypt(await storedSecret(ids.bearer), ids.bearer, 'password')).toBe(S.password3);

    // OAuth2: the secret stays with its client at its token endpoint
    await patched(ids.oauth, { auth: oauth2(undefined, { scope: 'read write' }) });
    expect(decrypt(await storedSecret(ids.oauth), ids.oauth, 'clientSecret')).toBe(S.clientSecret1);
    for (const moved of [
      { tokenUrl: 'https://elsewhere.example.org/token' },
      { clientId: 'another-client' },
    ]) {
      expect((await patched(ids.oauth, { auth: oauth2(undefined, moved) }, 400)).errors).toEqual([
        expect.objectContaining({ field: 'auth.clientSecret' }),
      ]);
    }
    await patched(ids.oauth, { auth: { method: 'bearer', token: S.token2 } });
    expect(decrypt(await storedSecret(ids.oauth), ids.oauth, 'token')).toBe(S.token2);

    // method none clears the stored secret
    const cleared = await created(dicomweb(basic('to-clear', secret('cleared'))));
    expect((await patched(cleared.id as string, { auth: { method: 'none' } })).auth).toEqual({
      method: 'none',
    });
    expect(await storedSecret(cleared.id as string)).toBeNull();

    // refused requests carrying secrets
    expect(
      (await call('POST', '/pacs-configs', dicomweb(basic('u', S.refusedPassword), { url: 'ftp://x' })))
        .status,
    ).toBe(400);
    expect(
      (
        await call(
          'POST',
          '/pacs-configs',
          dicomweb({ method: 'bearer', token: S.refusedToken }, { port: 104 }),
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await call(
          'POST',
          '/pacs-configs',
          dicomweb(basic('u', S.clashPassword), { aeTitle: withBasic.aeTitle }),
        )
      ).status,
    ).toBe(409);

    const doomed = await created(dicomweb({ method: 'bearer', token: S.deletedToken }));
    expect((await call('DELETE', `/pacs-configs/${doomed.id as string}`)).status).toBe(204);
  });

  it('requires the secret again when a PATCH changes where it is sent (scheme, host or port; the token endpoint)', async () => {
    const fieldErrorOf = async (id: string, body: Json, field: string): Promise<string> => {
      const before = await call('GET', `/pacs-configs/${id}`);
      const response = await service.call('PATCH', `/pacs-configs/${id}`, body);
      const problem = await expectProblem(response, 400);
      expect(problem.type).toBe('https://pacslink.dev/problems/secret-required');
      expect(problem.errors).toEqual([{ field, message: problem.detail }]);
      // Refused as a whole: nothing of the PATCH was applied.
      expect(await call('GET', `/pacs-configs/${id}`)).toEqual(before);
      return problem.detail;
    };
    const ok = async (id: string, body: Json): Promise<Json> => {
      const answer = await call('PATCH', `/pacs-configs/${id}`, body);
      expect([answer.status, answer.body]).toEqual([200, expect.anything()]);
      return answer.body;
    };
    const EVIL = 'https://evil.example.org:443';

    const basicId = (await call('POST', '/pacs-configs', dicomweb(basic('mover', S.movedPassword)))).body
      .id as string;
    for (const [url, to] of [
      ['https://evil.example.org/dicom-web', EVIL],
      ['http://pacs.example.org/dicom-web', 'http://pacs.example.org:80'],
      ['https://pacs.example.org:8443/dicom-web', 'https://pacs.example.org:8443'],
      [
        'https://PACS.example.org.evil.example.org/dicom-web',
        'https://pacs.example.org.evil.example.org:443',
      ],
    ]) {
      expect(await fieldErrorOf(basicId, { url }, 'auth.password')).toBe(
        `auth.password is required again because url changes where the password is sent (${PACS} → ${to})`,
      );
    }
    // The whole auth without its password does not do either.
    await fieldErrorOf(basicId, { url: 'https://evil.example.org/x', auth: basic('mover') }, 'auth.password');
    // The same origin under another path: the same party receives it; the password stays, bound as before.
    expect(await ok(basicId, { url: 'https://pacs.example.org/other/dicom-web' })).toMatchObject({
      url: 'https://pacs.example.org/other/dicom-web',
      auth: { method: 'basic', username: 'mover', passwordSet: true },
    });
    expect(decrypt(await storedSecret(basicId), basicId, 'password')).toBe(S.movedPassword);
    // With the password given again it moves, and is bound to the new origin only.
    await ok(basicId, { url: 'https://evil.example.org/dicom-web', auth: basic('mover', S.pathPassword) });
    const moved = await storedSecret(basicId);
    expect(decrypt(moved, basicId, 'password', EVIL)).toBe(S.pathPassword);
    expect(() => decrypt(moved, basicId, 'password', PACS)).toThrow(SecretDecryptionError);

    const bearerId = (
      await call('POST', '/pacs-configs', dicomweb({ method: 'bearer', token: S.movedToken }))
    ).body.id as string;
    expect(await fieldErrorOf(bearerId, { url: 'https://evil.example.org/dicom-web' }, 'auth.token')).toBe(
      `auth.token is required again because url changes where the token is sent (${PACS} → ${EVIL})`,
    );

    const oauthId = (await call('POST', '/pacs-configs', dicomweb(oauth2(S.movedClientSecret)))).body
      .id as string;
    expect(
      await fieldErrorOf(oauthId, { url: 'https://evil.example.org/dicom-web' }, 'auth.clientSecret'),
    ).toBe(
      `auth.clientSecret is required again because url changes where the access tokens bought with the client secret are sent (${PACS} → ${EVIL})`,
    );
    expect(
      await fieldErrorOf(
        oauthId,
        { auth: oauth2(undefined, { tokenUrl: 'https://evil.example.org/token' }) },
        'auth.clientSecret',
      ),
    ).toBe(
      `auth.clientSecret is required again because tokenUrl changes where the client secret is sent (${IDP} → ${EVIL})`,
    );
    await ok(oauthId, {
      auth: oauth2(undefined, { tokenUrl: 'https://auth.example.org/realms/pacs/token' }),
    });
    expect(decrypt(await storedSecret(oauthId), oauthId, 'clientSecret')).toBe(S.movedClientSecret);

    // No secret, nothing to require: auth none, and DIMSE (which has no credentials at all).
    const noneId = (await call('POST', '/pacs-configs', dicomweb({ method: 'none' }))).body.id as string;
    await ok(noneId, { url: 'https://elsewhere.example.org/dicom-web' });
    const dimseId = (
      await call('POST', '/pacs-configs', {
        type: 'dimse',
        aeTitle: `SECRET_${++counter}`,
        name: 'DIMSE',
        host: 'pacs.example.org',
        port: 104,
      })
    ).body.id as string;
    await ok(dimseId, { host: 'elsewhere.example.org', port: 11112 });
  });

  it('stores secrets encrypted and bound to their row: a ciphertext copied to another row does not decrypt', async () => {
    const stored = await storedSecret(ids.basic);
    expect(stored).toMatch(/^v2:[0-9a-f]{8}:/);
    expect(decrypt(stored, ids.basic, 'password')).toBe(S.password2);
    await sql.query('UPDATE pacs_config SET auth_secret = $1 WHERE id = $2', [stored, ids.bearer]);
    expect(() => decrypt(stored, ids.bearer, 'password')).toThrow(SecretDecryptionError);
    expect(() => decrypt(stored, ids.basic, 'token')).toThrow(SecretDecryptionError);
  });

  it('keeps no plaintext secret in any column of any table of the database', async () => {
    const { rows: columns } = await sql.query<{
      table_schema: string;
      table_name: string;
      column_name: string;
    }>(
      `SELECT c.table_schema, c.table_name, c.column_name
         FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND t.table_type = 'BASE TABLE'`,
    );
    const tables = new Set(columns.map((column) => `${column.table_schema}.${column.table_name}`));
    for (const expected of ['config.pacs_config', 'config.audit_entry', 'config.outbox_message']) {
      expect(tables).toContain(expected);
    }
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    const found = async (forms: string[]): Promise<string[]> => {
      const hits: string[] = [];
      for (const { table_schema, table_name, column_name } of columns) {
        const { rows } = await sql.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${quote(table_schema)}.${quote(table_name)}
            WHERE ${quote(column_name)}::text LIKE ANY ($1)`,
          [forms.map((form) => `%${form}%`)],
        );
        if (rows[0].n > 0) hits.push(`${table_schema}.${table_name}.${column_name}`);
      }
      return hits;
    };
    // The scan does see what is stored: a user name and an AE title, found where they belong.
    expect(await found([MARKER_USER])).toEqual(
      expect.arrayContaining(['config.pacs_config.auth_username', 'config.audit_entry.change']),
    );
    expect(await found(['SECRET_1'])).toEqual(
      expect.arrayContaining(['config.pacs_config.ae_title', 'config.outbox_message.envelope']),
    );
    expect(await found(leakForms)).toEqual([]);
  });

  it('answers no secret: GET one, the list, PATCH answers, errors and the audit', async () => {
    for (const id of Object.values(ids)) expect((await call('GET', `/pacs-configs/${id}`)).status).toBe(200);
    expect((await call('GET', '/pacs-configs?limit=500')).body.total).toBeGreaterThanOrEqual(3);
    const audit = await call('GET', '/audit?limit=500');
    const changes = JSON.stringify(audit.body);
    expect(changes).toContain('"password":"***"');
    expect(changes).toContain('"token":"***"');
    expect(changes).toContain('"clientSecret":"***"');
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.flatMap(leaksIn)).toEqual([]);
  });

  it('publishes pacs-config.* events without secrets', async () => {
    const deadline = Date.now() + 10_000;
    const ours = () => published.filter((body) => body.includes('"type":"pacs-config.'));
    // 5 + 5 creates, 7 + 5 accepted patches and 1 delete
    while (ours().length < 23 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ours()).toHaveLength(23);
    for (const body of ours()) {
      expect(Object.keys((JSON.parse(body) as { data: Json }).data).sort()).toEqual([
        'aeTitle',
        'id',
        'name',
        'type',
      ]);
    }
    expect(published.flatMap(leaksIn)).toEqual([]);
  });

  it('logs no secret, at the most talkative level', () => {
    const requestLines = logged.filter((line) => line.includes('/api/v1/pacs-configs'));
    expect(requestLines.length).toBeGreaterThan(20);
    expect(logged.join('\n')).toContain('"statusCode":409');
    expect(logged.flatMap(leaksIn)).toEqual([]);
    expect(logged.join('\n')).not.toContain(service.apiKey);
  });
});
