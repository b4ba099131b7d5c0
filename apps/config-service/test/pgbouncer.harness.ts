import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@pacslink/testing';

export interface PgBouncer {
  /** `postgres://<user>@127.0.0.1:<port>/<database>` through this PgBouncer. */
  urlFor(user: string, password: string): string;
  stop(): Promise<void>;
}

const answers = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });

/**
 * A PgBouncer of the test's own (the Debian package's binary) in transaction pool mode, in front of
 * one database of the local Postgres, for `users` (trusted, as the local Postgres trusts them).
 * It refuses to run as root: as root it drops to the postgres user.
 */
export async function startPgBouncer(database: string, users: string[]): Promise<PgBouncer> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-pgbouncer-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  await writeFile(join(dir, 'users.txt'), users.map((user) => `"${user}" ""\n`).join(''));
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = host=127.0.0.1 port=5432 dbname=${database}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      'default_pool_size = 4',
      'max_client_conn = 200',
      '',
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  const child = spawn('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const spawnError = new Promise<Error>((done) => child.once('error', done));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const failed = await Promise.race([spawnError, sleep(100).then(() => undefined)]);
    if (failed) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`pgbouncer did not start (${failed.message}): install the Debian package pgbouncer`);
    }
    if (await answers(port)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`pgbouncer did not listen on ${port}; its output:\n${output}`);
    }
  }
  return {
    urlFor: (user, password) =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    stop,
  };
}
