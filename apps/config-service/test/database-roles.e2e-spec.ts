import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { quoteIdentifier, withDatabase } from '@pacslink/persistence';
import {
  type TestVhost,
  createEmptyDatabase,
  createTestVhost,
  dropDatabase,
  testDatabasePrefix,
  uniqueSuffix,
  freePort,
} from '@pacslink/testing';
import { CONFIG_SCHEMA } from '../src/config';
import { startPgBouncer } from './pgbouncer.harness';
import { configServiceMigrations } from '../src/migrations';

// Issue 14: in production the migrate Job runs the DDL as the schema's owner and the service runs
// as a role that may only read and write, its search_path set by the role. The roles are made with
// docs/operations/database-roles.sql itself, and the services run as the build step bundled them.
const ROOT = resolve(__dirname, '../../..');
const ROLES_SQL = join(ROOT, 'docs/operations/database-roles.sql');
const CONFIG_MAIN = 'dist/apps/config-service/main.js';
const MWL_MAIN = 'dist/apps/mwl-mpps-service/main.js';
const API_KEY = 'database-roles-test-key';
/** The test cluster trusts local connections; the roles get one anyway, as in production. */
const PASSWORD = 'database-roles-test-password';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node <main> <args>` to its end, with only `env` (and PATH). */
function runNode(main: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [main, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
}

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface Started {
  baseUrl: string;
  stop: () => Promise<void>;
}

/** The built config-service; resolves once ready, or rejects with its output if it exits first. */
async function startConfigService(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, [CONFIG_MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env, HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const stop = async () => {
    if (exitCode === undefined) child.kill('SIGKILL');
    await exited;
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw Object.assign(new Error(`exited ${exitCode}`), { code: exitCode, output });
    const status = await fetch(`${baseUrl}/health/ready`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return { baseUrl, stop };
    await sleep(200);
  }
  await stop();
  throw new Error(`config-service was not ready within 60 s; its output:\n${output}`);
}

/** What a start that must fail said: its exit code and the reason of its start-up failure line. */
async function failedStart(env: Record<string, string>): Promise<{ code: number; reason: string }> {
  const failure = await startConfigService(env).then(
    async (started) => {
      await started.stop();
      throw new Error('config-service started');
    },
    (error: { code?: number; output?: string }) => error,
  );
  // One structured line says why (runService's abortOnError: false hands the error to startOrExit).
  const line = jsonLines(failure.output ?? '').find((entry) => entry.msg === 'start-up failed');
  if (typeof line?.reason !== 'string')
    throw new Error(`no 'start-up failed' JSON line in:\n${failure.output}`);
  return { code: failure.code ?? -1, reason: line.reason };
}

const auth = { authorization: `Bearer ${API_KEY}` };

async function createPacsConfig(baseUrl: string, aeTitle: string): Promise<number> {
  const response = await fetch(`${baseUrl}/api/v1/pacs-configs`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'dimse',
      aeTitle,
      name: aeTitle,
      host: '127.0.0.1',
      port: 104,
      cStore: true,
    }),
  });
  return response.status;
}

async function pacsConfigCount(baseUrl: string): Promise<number> {
  const listed = (await fetch(`${baseUrl}/api/v1/pacs-configs`, { headers: auth }).then((response) =>
    response.json(),
  )) as { total: number };
  return listed.total;
}

async function asRole<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The SQLSTATE a statement failed with ('' if it did not). */
const sqlState = (client: Client, sql: string) =>
  client.query(sql).then(
    () => '',
    (error: { code?: string }) => error.code ?? '?',
  );

describe('production database roles: the migrate Job as the schema owner, the service as a read/write role', () => {
  const suffix = uniqueSuffix();
  const name = `${testDatabasePrefix()}_roles_${suffix}`;
  const role = (purpose: string) => `pacslink_t${suffix}_${purpose}`;
  const roles = [role('config_owner'), role('config'), role('mwl_owner'), role('mwl')];
  let adminUrl: string;
  const urlAs = (user: string) => {
    const url = new URL(adminUrl);
    url.username = user;
    url.password = PASSWORD;
    return url.toString();
  };
  let vhost: TestVhost;
  let storeDir: string;
  let serviceEnv: Record<string, string>;

  /** docs/operations/database-roles.sql for one schema, as its header says to run it. */
  const createRoles = (schema: string, owner: string, runtime: string) => {
    const variables = {
      database: name,
      schema,
      owner,
      runtime,
      owner_password: PASSWORD,
      runtime_password: PASSWORD,
    };
    const args = Object.entries(variables).flatMap(([variable, value]) => ['-v', `${variable}=${value}`]);
    return new Promise<void>((done, fail) =>
      execFile(
        'psql',
        [adminUrl, '-q', '-v', 'ON_ERROR_STOP=1', ...args, '-f', ROLES_SQL],
        (error, _, stderr) => (error ? fail(new Error(`psql: ${stderr}`)) : done()),
      ),
    );
  };

  beforeAll(async () => {
    for (const main of [CONFIG_MAIN, MWL_MAIN]) {
      if (!existsSync(join(ROOT, main))) throw new Error(`${main} is missing: run \`npm run build\` first`);
    }
    adminUrl = await createEmptyDatabase(name);
    await createRoles(CONFIG_SCHEMA, role('config_owner'), role('config'));
    vhost = await createTestVhost();
    storeDir = await mkdtemp(join(tmpdir(), 'pacslink-roles-'));
    serviceEnv = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: urlAs(role('config')),
      AMQP_URL: vhost.url,
      STORE_DIR: storeDir,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      API_KEYS: API_KEY,
    };
  });

  afterAll(async () => {
    await vhost?.drop();
    if (storeDir) await rm(storeDir, { recursive: true, force: true });
    await dropDatabase(name);
    // Roles belong to the cluster, not the database: dropped by name once their database is gone.
    await asRole(withDatabase(adminUrl, 'postgres'), async (admin) => {
      for (const each of roles) await admin.query(`DROP ROLE IF EXISTS ${quoteIdentifier(each)}`);
    });
  });

  it('before the migrate Job ran, config-service refuses to start in production, naming the command', async () => {
    const { code, reason } = await failedStart(serviceEnv);
    expect(code).toBe(1);
    expect(reason).toContain(
      `schema "config" lacks ${configServiceMigrations.length} migration(s) of this build`,
    );
    expect(reason).toContain(`run \`node ${CONFIG_MAIN} migrate\``);
  });

  it('migrate as the runtime role fails, saying why; as the owner it applies every migration, then finds none', async () => {
    const asRuntime = await runNode(CONFIG_MAIN, ['migrate'], serviceEnv);
    expect(asRuntime.code).toBe(1);
    expect(jsonLines(asRuntime.stderr)).toEqual([
      expect.objectContaining({ level: 'error', msg: 'migrate failed', schema: CONFIG_SCHEMA }),
    ]);
    expect(asRuntime.stderr).toContain('permission denied for schema config');

    // MIGRATE_DATABASE_URL wins over DATABASE_URL (the runtime role's, which may not run DDL).
    const job = { ...serviceEnv, MIGRATE_DATABASE_URL: urlAs(role('config_owner')) };
    const first = await runNode(CONFIG_MAIN, ['migrate'], job);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const [applied] = jsonLines(first.stdout);
    expect(applied).toMatchObject({
      level: 'info',
      msg: 'migrations applied',
      schema: CONFIG_SCHEMA,
      database: name,
    });
    expect(applied.applied).toHaveLength(configServiceMigrations.length);

    const again = await runNode(CONFIG_MAIN, ['migrate'], job);
    expect(again.code).toBe(0);
    expect(jsonLines(again.stdout)).toEqual([
      expect.objectContaining({ msg: 'schema up to date', applied: [] }),
    ]);
  });

  it('the runtime role reads and writes the tables the owner created, and cannot change their structure', async () => {
    await asRole(urlAs(role('config')), async (runtime) => {
      expect((await runtime.query('SELECT current_schema() AS schema')).rows).toEqual([{ schema: 'config' }]);
      await runtime.query('SELECT count(*) FROM pacs_config');
      expect(await sqlState(runtime, 'CREATE TABLE intruder (id int)')).toBe('42501');
      expect(await sqlState(runtime, 'ALTER TABLE pacs_config ADD COLUMN intruder int')).toBe('42501');
      expect(await sqlState(runtime, 'DROP TABLE pacs_config')).toBe('42501');
      expect(await sqlState(runtime, 'TRUNCATE settings')).toBe('42501');
      expect(await sqlState(runtime, 'CREATE SCHEMA intruder')).toBe('42501');
    });
  });

  it('config-service runs as the runtime role, search_path from the role: ready, and creates a PACS configuration', async () => {
    const service = await startConfigService(serviceEnv);
    try {
      expect(await createPacsConfig(service.baseUrl, 'ROLES_PACS')).toBe(201);
      expect(await pacsConfigCount(service.baseUrl)).toBe(1);
    } finally {
      await service.stop();
    }
  });

  it('behind PgBouncer in transaction mode: a search_path connection option is refused; config-service, without one, serves', async () => {
    const bouncer = await startPgBouncer(name, [role('config')]);
    try {
      const throughBouncer = bouncer.urlFor(role('config'), PASSWORD);
      // What every connection sent before issue 14, and still does outside production.
      const withOption = new Client({ connectionString: throughBouncer, options: '-c search_path=config' });
      await expect(withOption.connect()).rejects.toThrow('unsupported startup parameter: options');
      await withOption.end().catch(() => undefined);

      const service = await startConfigService({ ...serviceEnv, DATABASE_URL: throughBouncer });
      try {
        expect(await createPacsConfig(service.baseUrl, 'BOUNCER_PACS')).toBe(201);
        expect(await pacsConfigCount(service.baseUrl)).toBe(2);
      } finally {
        await service.stop();
      }
    } finally {
      await bouncer.stop();
    }
  });

  it("refuses to start when its role's search_path does not name its schema, saying how to set it", async () => {
    await asRole(adminUrl, (admin) =>
      admin.query(
        `ALTER ROLE ${quoteIdentifier(role('config'))} IN DATABASE ${quoteIdentifier(name)} RESET search_path`,
      ),
    );
    const { code, reason } = await failedStart(serviceEnv);
    expect(code).toBe(1);
    expect(reason).toContain(`role "${role('config')}" resolves names in`);
    expect(reason).toContain(`not "config"`);
    expect(reason).toContain(
      `ALTER ROLE "${role('config')}" IN DATABASE "${name}" SET search_path = "config"`,
    );
  });

  it("mwl-mpps-service's migrate applies its schema's migrations as its own owner, beside config's", async () => {
    await createRoles('mwl', role('mwl_owner'), role('mwl'));
    const job = await runNode(MWL_MAIN, ['migrate'], {
      NODE_ENV: 'production',
      MIGRATE_DATABASE_URL: urlAs(role('mwl_owner')),
    });
    expect(job).toMatchObject({ code: 0, stderr: '' });
    const [applied] = jsonLines(job.stdout);
    expect(applied).toMatchObject({ msg: 'migrations applied', schema: 'mwl' });
    const recorded = await asRole(adminUrl, (admin) => admin.query('SELECT name FROM mwl.migrations'));
    expect(recorded.rows.map((row: { name: string }) => row.name).sort()).toEqual(
      [...(applied.applied as string[])].sort(),
    );
    expect(recorded.rowCount).toBeGreaterThan(0);
    // Owners are per schema: config's owner may not touch mwl's tables.
    await asRole(urlAs(role('config_owner')), async (configOwner) => {
      expect(await sqlState(configOwner, 'SELECT 1 FROM mwl.worklist_task LIMIT 1')).toBe('42501');
    });
  });
});
