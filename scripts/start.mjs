// `npm start`: build, then run all four services on this machine against local Postgres and
// RabbitMQ, with their logs combined and prefixed, until Ctrl-C.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const READY_TIMEOUT_MS = 60_000;
// Above the services' drain time (SHUTDOWN_DRAIN_MS, 20 s): a worker hands its batch back first.
const STOP_GRACE_MS = 25_000;
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/pacslink';
const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const SECRETS_KEY_FILE = join(ROOT, 'var', 'secrets.key');

// HTTP_PORT, when set, moves the API (config-service) only: the contract gives it to config-service.
const SERVICES = [
  { name: 'config-service', port: Number(process.env.HTTP_PORT || 3000), color: '36' },
  { name: 'dimse-worker', port: 3001, color: '35' },
  { name: 'dicomweb-worker', port: 3002, color: '33' },
  { name: 'mwl-mpps-service', port: 3003, color: '34' },
];

const useColor =
  process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0'
    ? true
    : process.env.NO_COLOR === undefined && process.stdout.isTTY === true;
const paint = (code, text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
const WIDTH = Math.max('pacslink'.length, ...SERVICES.map((s) => s.name.length));
const label = (name, color) => paint(color, `${name.padEnd(WIDTH)} |`);

const say = (text) => process.stdout.write(`${label('pacslink', '1')} ${text}\n`);
const warn = (text) => process.stderr.write(`${label('pacslink', '1;33')} ${paint('1;33', text)}\n`);
const fail = (text) => process.stderr.write(`${label('pacslink', '1;31')} ${paint('1;31', text)}\n`);

/** Children by name; each has `child` and `closed` once its process exited and its pipes drained. */
const running = new Map();
let stopping = false;
let signalled = false;
let building = null;

// ------------------------------------------------------------------------------------- signals
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    // npm forwards the signal the terminal already sent to the whole group: one stop is enough.
    if (signalled) return;
    signalled = true;
    if (building) {
      building.kill(signal);
      return;
    }
    say(`${signal}: stopping all services`);
    void stopAll(0);
  });
}

// A crash of this script must not leave services behind (they run in their own process groups).
process.on('exit', () => {
  for (const entry of running.values()) {
    if (!entry.closed) killGroup(entry.child, 'SIGKILL');
  }
});

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

// ----------------------------------------------------------------------------------- build
function build() {
  const nx = join(ROOT, 'node_modules', '.bin', 'nx');
  if (!existsSync(nx)) {
    fail('node_modules/.bin/nx not found: run `npm ci` first');
    process.exit(1);
  }
  say('building (nx run-many -t build; unchanged apps come from the nx cache)');
  return new Promise((resolvePromise) => {
    building = spawn(nx, ['run-many', '-t', 'build', '--parallel=2'], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    building.on('error', (error) => {
      fail(`could not run nx: ${error.message}`);
      process.exit(1);
    });
    building.on('close', (code, signal) => {
      building = null;
      if (signalled) process.exit(130);
      if (code !== 0) {
        fail(`build failed (${signal ?? `exit ${code}`})`);
        process.exit(1);
      }
      for (const { name } of SERVICES) {
        if (!existsSync(join(ROOT, 'dist', 'apps', name, 'main.js'))) {
          fail(`build finished but dist/apps/${name}/main.js is missing`);
          process.exit(1);
        }
      }
      resolvePromise();
    });
  });
}

// ----------------------------------------------------------------------------- environment
function secretsKey() {
  if (process.env.SECRETS_KEY) return process.env.SECRETS_KEY;
  if (process.env.NODE_ENV === 'production') {
    fail(
      'NODE_ENV=production needs SECRETS_KEY (32 random bytes, base64); npm start generates one only for development',
    );
    process.exit(1);
  }
  const file = relative(ROOT, SECRETS_KEY_FILE);
  if (existsSync(SECRETS_KEY_FILE)) {
    const key = readFileSync(SECRETS_KEY_FILE, 'utf8').trim();
    if (Buffer.from(key, 'base64').length !== 32) {
      fail(`${file} does not hold 32 bytes in base64; fix it or set SECRETS_KEY`);
      process.exit(1);
    }
    return key;
  }
  const key = randomBytes(32).toString('base64');
  mkdirSync(dirname(SECRETS_KEY_FILE), { recursive: true });
  writeFileSync(SECRETS_KEY_FILE, `${key}\n`, { mode: 0o600, flag: 'wx' });
  // Losing it makes the PACS credentials stored with it unreadable.
  say(`generated a development SECRETS_KEY into ${file} (mode 0600); keep it`);
  return key;
}

function withoutPassword(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** `host:port` of a URL (its default port when it names none), or undefined when it is not one. */
function hostPortOf(url, defaultPort) {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || defaultPort}`;
  } catch {
    return undefined;
  }
}

function answers(host, port, timeoutMs = 1_000) {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const settle = (up) => {
      socket.destroy();
      resolvePromise(up);
    };
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
    socket.once('timeout', () => settle(false));
  });
}

async function checkBackingServices(env) {
  const checks = [
    ['Postgres', env.DATABASE_URL, 5432, 'DATABASE_URL'],
    ['RabbitMQ', env.AMQP_URL, 5672, 'AMQP_URL'],
  ];
  let ok = true;
  for (const [what, url, defaultPort, variable] of checks) {
    let host;
    let port;
    try {
      const parsed = new URL(url);
      host = parsed.hostname.replace(/^\[|\]$/g, '');
      port = Number(parsed.port || defaultPort);
    } catch {
      fail(`${variable} is not a URL: ${url}`);
      ok = false;
      continue;
    }
    if (!(await answers(host, port))) {
      fail(
        `${what} does not answer at ${host}:${port} (${variable}=${withoutPassword(url)}): start it or set ${variable}`,
      );
      ok = false;
    }
  }
  // Something else on a service's port would answer our readiness checks in its place.
  for (const { name, port } of SERVICES) {
    if (await answers('127.0.0.1', port)) {
      fail(`port ${port} (${name}) is already in use: is another \`npm start\` running?`);
      ok = false;
    }
  }
  if (!ok) process.exit(1);
}

// -------------------------------------------------------------------------------- services
function pipeLines(stream, out, prefix) {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
    out.write(`${prefix} ${line}\n`),
  );
}

function startService(service, env) {
  const child = spawn(process.execPath, [join('dist', 'apps', service.name, 'main.js')], {
    cwd: ROOT,
    env: { ...env, HTTP_PORT: String(service.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches only this script, which then stops each
    // service exactly once (a second signal would cut Nest's shutdown hooks short).
    detached: true,
  });
  const entry = { service, child, closed: false, code: null, signal: null };
  running.set(service.name, entry);
  const prefix = label(service.name, service.color);
  pipeLines(child.stdout, process.stdout, prefix);
  pipeLines(child.stderr, process.stderr, prefix);
  child.on('error', (error) => fail(`${service.name}: ${error.message}`));
  child.on('close', (code, signal) => {
    entry.closed = true;
    entry.code = code;
    entry.signal = signal;
    if (!stopping) {
      fail(`${service.name} exited unexpectedly (${signal ?? `exit ${code}`}); stopping the others`);
      void stopAll(1);
    } else if (running.size > 0 && [...running.values()].every((e) => e.closed)) {
      finish();
    }
  });
}

let exitCode = 0;
let killTimer = null;

function finish() {
  if (killTimer) clearTimeout(killTimer);
  say(exitCode === 0 ? 'all services stopped' : 'stopped');
  process.exit(exitCode);
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  const alive = [...running.values()].filter((entry) => !entry.closed);
  if (alive.length === 0) return finish();
  for (const entry of alive) entry.child.kill('SIGTERM');
  killTimer = setTimeout(() => {
    for (const entry of running.values()) {
      if (entry.closed) continue;
      warn(`${entry.service.name} did not stop within ${STOP_GRACE_MS / 1000} s: SIGKILL`);
      killGroup(entry.child, 'SIGKILL');
    }
  }, STOP_GRACE_MS);
}

const sleep = (ms) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

async function waitReady(entry, deadline) {
  const url = `http://127.0.0.1:${entry.service.port}/health/ready`;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (stopping || entry.closed) return { ok: false, last: 'exited' };
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return { ok: true };
      last = `HTTP ${response.status} ${(await response.text()).slice(0, 300)}`;
    } catch (error) {
      last = error?.cause?.code ?? error?.message ?? String(error);
    }
    await sleep(500);
  }
  return { ok: false, last };
}

// ------------------------------------------------------------------------------------ main
async function main() {
  const apiPort = SERVICES[0].port;
  if (!Number.isInteger(apiPort) || apiPort < 1 || apiPort > 65535) {
    fail(`HTTP_PORT=${process.env.HTTP_PORT} is not a TCP port`);
    process.exit(1);
  }
  await build();
  if (signalled) process.exit(130);

  const env = {
    ...process.env,
    DATABASE_URL: process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
    AMQP_URL: process.env.AMQP_URL || DEFAULT_AMQP_URL,
    LOG_FORMAT: process.env.LOG_FORMAT || 'pretty',
    SECRETS_KEY: secretsKey(),
  };
  // The workers are not given the database's URL; they refuse its host:port as a PACS all the same.
  env.EGRESS_DENY_ENDPOINTS ||= hostPortOf(env.DATABASE_URL, 5432);
  // pino-pretty runs in a worker thread writing to our pipe, so it cannot see the terminal itself.
  if (useColor) {
    env.FORCE_COLOR = '1';
    delete env.NO_COLOR;
  } else {
    env.NO_COLOR = '1';
    delete env.FORCE_COLOR;
  }
  const authOff = !process.env.API_KEYS;
  if (authOff) {
    warn('API_KEYS is not set: the API accepts every request WITHOUT AUTHENTICATION.');
    warn('Set API_KEYS=<key>[,<key>...] to require `Authorization: Bearer <key>`.');
  }
  say(`DATABASE_URL=${withoutPassword(env.DATABASE_URL)} AMQP_URL=${withoutPassword(env.AMQP_URL)}`);
  await checkBackingServices(env);
  if (signalled) process.exit(0);

  say(`starting ${SERVICES.map((s) => s.name).join(', ')}`);
  for (const service of SERVICES) startService(service, env);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  const entries = [...running.values()];
  const results = await Promise.all(entries.map((entry) => waitReady(entry, deadline)));
  if (stopping) return;
  const notReady = entries.filter((_, index) => !results[index].ok);
  for (const entry of notReady) {
    fail(
      `${entry.service.name} not ready within ${READY_TIMEOUT_MS / 1000} s ` +
        `(http://127.0.0.1:${entry.service.port}/health/ready: ${results[entries.indexOf(entry)].last})`,
    );
  }
  if (notReady.length > 0) {
    fail('stopping all services');
    await stopAll(1);
    return;
  }

  const api = `http://127.0.0.1:${SERVICES[0].port}`;
  say(paint('1;32', 'all four services are ready'));
  say(`API       ${api}/api/v1`);
  say(`API docs  ${api}/api/docs  (OpenAPI JSON: ${api}/api/docs-json)`);
  for (const { name, port } of SERVICES)
    say(`health    ${`http://127.0.0.1:${port}/health/ready`.padEnd(36)} ${name}`);
  if (authOff) warn('authentication is OFF (API_KEYS unset)');
  say('Ctrl-C stops all four');
}

main().catch((error) => {
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
  void stopAll(1);
  if (running.size === 0) process.exit(1);
});
