import { execFile } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import type { Client } from 'pg';
import { SecretCipher } from '@pacslink/secrets';
import type { TestDatabase } from '@pacslink/testing';
import { loadConfigServiceEnv } from '../src/config';
import { rotateSecrets } from '../src/rotate-secrets.command';
import { startConfigService, type Env, type RunningConfigService } from './config-service.harness';
import { startDicomwebWorker } from './workers.harness';

// Key rotation end to end, against real Postgres and a real dicomweb-worker: secrets written under
// key A (and one in the v1 format of the version before), the services restarted with
// SECRETS_KEY=B and SECRETS_PREVIOUS_KEYS=A, rotate-secrets beside concurrent PATCHes, then A
// removed. "Works" means a connection test through the worker authenticates to a server of the
// test's own, which accepts only the right password or token.
jest.setTimeout(180_000);

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');
const keyOf = (key: string) =>
  createHash('sha256').update(Buffer.from(key, 'base64')).digest('hex').slice(0, 8);

/** A v1 secret as the previous version stored it, encoded here independently of the code under test. */
function legacyV1(key: string, plaintext: string, rowId: string, field: string): string {
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', Buffer.from(key, 'base64'), iv);
  gcm.setAAD(Buffer.from(`pacs_config\u0000${rowId}\u0000${field}`, 'utf8'));
  const ciphertext = Buffer.concat([gcm.update(plaintext, 'utf8'), gcm.final()]);
  return ['v1', keyOf(key), iv, gcm.getAuthTag(), ciphertext]
    .map((part) => (Buffer.isBuffer(part) ? part.toString('base64') : part))
    .join(':');
}

interface Row {
  id: string;
  field: 'password' | 'token';
  /** The secret the server accepts for it now. */
  secret: string;
}

describe('key rotation: SECRETS_KEY, SECRETS_PREVIOUS_KEYS and rotate-secrets, end to end', () => {
  const A = randomBytes(32).toString('base64');
  const B = randomBytes(32).toString('base64');
  const accepted = new Set<string>();
  let pacs: Server;
  let pacsUrl: string;
  let database: TestDatabase | undefined;
  const rows: Row[] = [];

  const header = (row: Row) =>
    row.field === 'token'
      ? `Bearer ${row.secret}`
      : `Basic ${Buffer.from(`viewer:${row.secret}`).toString('base64')}`;

  beforeAll(async () => {
    // A DICOMweb server that holds no studies and knows only the current secrets.
    pacs = createServer((request, response) => {
      const ok = accepted.has(request.headers.authorization ?? '');
      response.writeHead(ok ? 200 : 401, { 'content-type': ok ? 'application/dicom+json' : 'text/plain' });
      response.end(ok ? '[]' : 'unauthorized');
    });
    await new Promise<void>((done) => pacs.listen(0, '127.0.0.1', () => done()));
    pacsUrl = `http://127.0.0.1:${(pacs.address() as AddressInfo).port}/dicom-web`;
  });

  afterAll(async () => {
    pacs.closeAllConnections();
    await new Promise<void>((done) => pacs.close(() => done()));
    await database?.drop();
  });

  /** config-service and a dicomweb-worker with these keys, on the test's database; closed after `work`. */
  async function withServices(
    keys: { SECRETS_KEY: string; SECRETS_PREVIOUS_KEYS?: string },
    work: (service: RunningConfigService, sql: Client) => Promise<void>,
  ): Promise<void> {
    const env: Env = { ...keys };
    const service = await startConfigService({ env, ...(database ? { database } : {}) });
    database = service.database;
    let worker: INestApplication | undefined;
    try {
      worker = await startDicomwebWorker(service.vhost.url, keys.SECRETS_KEY, {
        ...(keys.SECRETS_PREVIOUS_KEYS ? { SECRETS_PREVIOUS_KEYS: keys.SECRETS_PREVIOUS_KEYS } : {}),
      });
      await work(service, await service.connectSql());
    } finally {
      await worker?.close();
      await service.close();
    }
  }

  const commandEnv = (keys: { SECRETS_KEY: string; SECRETS_PREVIOUS_KEYS?: string }) =>
    loadConfigServiceEnv({ DATABASE_URL: database?.url, LOG_LEVEL: 'silent', ...keys });

  async function everyRowConnects(service: RunningConfigService): Promise<void> {
    for (const row of rows) {
      const response = await service.call('POST', `/pacs-configs/${row.id}/test-connection`, {});
      expect([row.id, await response.json()]).toEqual([
        row.id,
        expect.objectContaining({ ok: true, message: 'Connection established' }),
      ]);
    }
  }

  async function stored(sql: Client): Promise<Map<string, { secret: string; version: number }>> {
    const { rows: found } = await sql.query<{ id: string; auth_secret: string; version: number }>(
      'SELECT id, auth_secret, version FROM pacs_config',
    );
    return new Map(found.map((row) => [row.id, { secret: row.auth_secret, version: row.version }]));
  }

  const prefixes = async (sql: Client) =>
    [...(await stored(sql)).values()].map(({ secret }) => secret.split(':').slice(0, 2).join(':')).sort();

  it('under key A: secrets written by the API, and one in the v1 format, all work', async () => {
    await withServices({ SECRETS_KEY: A }, async (service, sql) => {
      const create = async (field: Row['field'], index: number): Promise<Row> => {
        const secret = `${field}-${index}-${randomBytes(6).toString('hex')}`;
        const auth =
          field === 'token'
            ? { method: 'bearer', token: secret }
            : { method: 'basic', username: 'viewer', password: secret };
        const id = await service.createPacsConfig({
          type: 'dicomweb',
          aeTitle: `ROT_${index}`,
          name: `rotation ${index}`,
          url: pacsUrl,
          auth,
          timeoutMs: 5_000,
        });
        const row = { id, field, secret };
        accepted.add(header(row));
        return row;
      };
      rows.push(await create('password', 0), await create('token', 1));
      for (let index = 2; index < 22; index++) rows.push(await create('password', index));
      // One secret as the version before this one stored it: v1, bound to no destination.
      const old = rows[2];
      await sql.query('UPDATE pacs_config SET auth_secret = $1 WHERE id = $2', [
        legacyV1(A, old.secret, old.id, 'password'),
        old.id,
      ]);
      expect(await prefixes(sql)).toEqual([`v1:${keyOf(A)}`, ...Array<string>(21).fill(`v2:${keyOf(A)}`)]);
      // The worker refuses v1: config-service re-encrypts it on its way.
      await everyRowConnects(service);
    });
  });

  it('restarted with SECRETS_KEY=B, SECRETS_PREVIOUS_KEYS=A: every secret still works, and a write re-encrypts under B', async () => {
    await withServices({ SECRETS_KEY: B, SECRETS_PREVIOUS_KEYS: A }, async (service, sql) => {
      const before = await prefixes(sql);
      await everyRowConnects(service);
      // Reading changed nothing stored.
      expect(await prefixes(sql)).toEqual(before);
      const answer = await service.call('PATCH', `/pacs-configs/${rows[0].id}`, { name: 'renamed' });
      expect(answer.status).toBe(200);
      expect((await stored(sql)).get(rows[0].id)?.secret.startsWith(`v2:${keyOf(B)}:`)).toBe(true);
    });
  });

  it('rotate-secrets re-encrypts the rest under B, row by row beside concurrent PATCHes, without touching ETags; again, it finds nothing to do', async () => {
    await withServices({ SECRETS_KEY: B, SECRETS_PREVIOUS_KEYS: A }, async (service, sql) => {
      const versions = await stored(sql);
      // PATCHes of ten rows (a new password for five, a new name for five) race two rotations.
      const patched = rows.slice(10, 20);
      const patches = patched.map(async (row, index) => {
        const body =
          index % 2 === 0
            ? { auth: { method: 'basic', username: 'viewer', password: `${row.secret}-new` } }
            : { name: `renamed ${index}` };
        const response = await service.call('PATCH', `/pacs-configs/${row.id}`, body);
        expect(response.status).toBe(200);
        if (index % 2 === 0) {
          accepted.delete(header(row));
          row.secret = `${row.secret}-new`;
          accepted.add(header(row));
        }
      });
      const [first, second] = await Promise.all([
        rotateSecrets(commandEnv({ SECRETS_KEY: B, SECRETS_PREVIOUS_KEYS: A })),
        rotateSecrets(commandEnv({ SECRETS_KEY: B, SECRETS_PREVIOUS_KEYS: A })),
        ...patches,
      ]);
      for (const report of [first, second]) {
        expect(report).toMatchObject({ keyId: keyOf(B), examined: 22, failed: [] });
      }
      const after = await stored(sql);
      expect(await prefixes(sql)).toEqual(Array<string>(22).fill(`v2:${keyOf(B)}`));
      // The rotation bumped no version: only the ten PATCHes did, by one each.
      for (const row of rows) {
        const bump = patched.includes(row) ? 1 : 0;
        expect([row.id, after.get(row.id)?.version]).toEqual([
          row.id,
          (versions.get(row.id)?.version ?? 0) + bump,
        ]);
      }
      // Each row holds its latest secret, readable with B alone.
      const onlyB = new SecretCipher(Buffer.from(B, 'base64'));
      const destination = new URL(pacsUrl).origin;
      for (const row of rows) {
        const context = { table: 'pacs_config', rowId: row.id, field: row.field, destination };
        expect(onlyB.decrypt(after.get(row.id)?.secret ?? '', context)).toBe(row.secret);
      }
      await everyRowConnects(service);
      expect(await rotateSecrets(commandEnv({ SECRETS_KEY: B, SECRETS_PREVIOUS_KEYS: A }))).toEqual({
        keyId: keyOf(B),
        examined: 22,
        reencrypted: 0,
        current: 22,
        failed: [],
      });
    });
  });

  it('with A removed everything still works', async () => {
    await withServices({ SECRETS_KEY: B }, async (service) => {
      await everyRowConnects(service);
    });
  });

  it('node main.js rotate-secrets: prints its report as a log line; a secret no key reads fails the run, naming the key', async () => {
    const cli = (keys: Env) =>
      run(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          '-r',
          'tsconfig-paths/register',
          'apps/config-service/src/main.ts',
          'rotate-secrets',
        ],
        {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH,
            TS_NODE_PROJECT: 'apps/config-service/tsconfig.app.json',
            DATABASE_URL: database?.url,
            ...keys,
          },
        },
      );
    const { stdout } = await cli({ SECRETS_KEY: B });
    expect(JSON.parse(stdout)).toMatchObject({
      level: 'info',
      msg: 'secrets rotated',
      keyId: keyOf(B),
      examined: 22,
      reencrypted: 0,
      current: 22,
      failed: [],
    });
    const C = randomBytes(32).toString('base64');
    const failed = await cli({ SECRETS_KEY: C }).then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed?.code).toBe(1);
    const report = JSON.parse(failed?.stdout ?? '{}') as {
      reencrypted: number;
      failed: { reason: string }[];
    };
    expect(report.reencrypted).toBe(0);
    expect(report.failed).toHaveLength(22);
    expect(report.failed[0].reason).toBe(
      `the secret was encrypted with key ${keyOf(B)}, which is neither SECRETS_KEY (key ${keyOf(C)}) nor in SECRETS_PREVIOUS_KEYS (unset)`,
    );
  });
});
