import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

// The lines a failing `main.js migrate` or a refused production start print name the reason, never
// the database's or broker's password (docs/security.md, "Wave 2 surfaces"). config-service as a
// process from its source, with URLs holding a password, against real Postgres where one answers.
jest.setTimeout(120_000);

const ROOT = resolve(__dirname, '../../..');
const PASSWORD = 'Pw-in-the-url-7f3a';

function run(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'apps/config-service/src/main.ts',
        ...args,
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, TS_NODE_PROJECT: 'apps/config-service/tsconfig.app.json', ...env },
        timeout: 60_000,
      },
      (_, stdout, stderr) => done(`${stdout}${stderr}`),
    );
  });
}

/** The test cluster's Postgres (DATABASE_URL) as `user` with the password, on `database`. */
function postgresAs(user: string, database: string): string {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.username = user;
  url.password = PASSWORD;
  url.pathname = `/${database}`;
  return url.toString();
}

describe('no password in the failure lines of migrate and of a refused start', () => {
  const migrateUrls: Record<string, string> = {
    'a role that does not exist': postgresAs('pacslink_no_such_role', 'postgres'),
    'nothing listening': `postgres://owner:${PASSWORD}@127.0.0.1:1/pacslink`,
    'a host that does not resolve': `postgres://owner:${PASSWORD}@db.invalid:5432/pacslink`,
    'a malformed URL (bad port)': `postgres://owner:${PASSWORD}@127.0.0.1:port/pacslink`,
    'a malformed URL (bad escape)': `postgres://owner:${PASSWORD}%zz@127.0.0.1:5432/pacslink`,
  };

  it.each(Object.entries(migrateUrls))(
    'migrate with %s: a failure line without the password',
    async (_, url) => {
      const output = await run(['migrate'], { MIGRATE_DATABASE_URL: url });
      expect(output).toContain('migrate failed');
      expect(output).not.toContain(PASSWORD);
    },
  );

  it('a production start whose database and broker do not answer: refused, without either password', async () => {
    const output = await run([], {
      NODE_ENV: 'production',
      API_KEYS: 'start-failure-secrets-test-key',
      DATABASE_URL: `postgres://config:${PASSWORD}@127.0.0.1:1/pacslink`,
      AMQP_URL: `amqp://pacslink:${PASSWORD}@127.0.0.1:1`,
      HTTP_PORT: '0',
      LOG_FORMAT: 'json',
    });
    expect(output).toMatch(/start-up failed|not ready|ECONNREFUSED/);
    expect(output).not.toContain(PASSWORD);
  });
});
