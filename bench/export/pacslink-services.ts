import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { quoteIdentifier, withDatabase } from '@pacslink/persistence';
import { amqpUrlFor, ManagementApi, managementUrlOf, freePort } from '@pacslink/testing';
import type { Cleanup } from './cleanup';
import { log } from './log';

export const APPS = ['config-service', 'dimse-worker', 'dicomweb-worker', 'mwl-mpps-service'] as const;
export type AppName = (typeof APPS)[number];

export interface RunningService {
  app: AppName;
  pid: number;
  baseUrl: string;
  logFile: string;
  /** dimse-worker only: its Storage SCP's port (SCP_PORT). */
  scpPort?: number;
}

export interface PacslinkStack<A extends AppName = AppName> {
  /** config-service's REST API, e.g. http://127.0.0.1:PORT/api/v1 */
  apiUrl: string;
  /** AMQP_URL of the stack's own vhost. */
  amqpUrl: string;
  storeDir: string;
  services: Record<A, RunningService>;
  /** The `replicas` asked for, by their label. */
  replicas: Record<string, RunningService>;
}

export interface StartOptions<A extends AppName> {
  /** The services to start (config-service among them: the others ask it); default all four. */
  apps?: readonly A[];
  /** Environment added per service (over the NODE_OPTIONS its k8s manifest sets, which it gets). */
  env?: Partial<Record<AppName, NodeJS.ProcessEnv>>;
  /** Node options per service that NODE_OPTIONS refuses, e.g. --cpu-prof. */
  nodeArgs?: Partial<Record<AppName, readonly string[]>>;
  /**
   * More processes of the stack's apps, by label, each with the environment of its app plus its
   * own (e.g. a second dimse-worker in another mode, compared in one run). Logs: `<label>.log`.
   */
  replicas?: Record<string, { app: A; env: NodeJS.ProcessEnv }>;
  /** The build to run (a directory holding apps/<app>/main.js); default the repository's dist/. */
  distDir?: string;
  /** Tells apart the database, vhost and logs of several stacks of one benchmark process. */
  name?: string;
}

const REPO_ROOT = resolve(__dirname, '..', '..');
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * The NODE_OPTIONS that k8s/base/<app>.yaml gives the app's container (its heap cap): a bench
 * measures the service as deployed, and this reads it from the one place it is written.
 */
export async function manifestNodeOptions(app: AppName): Promise<string | undefined> {
  const text = await readFile(join(REPO_ROOT, 'k8s', 'base', `${app}.yaml`), 'utf8');
  for (const document of parseAllDocuments(text)) {
    const manifest = document.toJSON() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
    } | null;
    if (manifest?.kind !== 'Deployment') continue;
    for (const container of manifest.spec?.template?.spec?.containers ?? []) {
      const option = container.env?.find((variable) => variable.name === 'NODE_OPTIONS');
      if (option?.value !== undefined) return option.value;
    }
  }
  return undefined;
}

function mainOf(app: AppName, distDir = join(REPO_ROOT, 'dist')): string {
  return join(distDir, 'apps', app, 'main.js');
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: withDatabase(adminUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
  if (!stopped) {
    log(`pid ${child.pid} ignored SIGTERM for ${STOP_GRACE_MS / 1000} s: SIGKILL`);
    child.kill('SIGKILL');
    await exited;
  }
}

async function waitReady(service: RunningService, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${service.app} exited during start-up (${child.exitCode ?? child.signalCode}); its log:\n${await tail(service.logFile)}`,
      );
    }
    const status = await fetch(`${service.baseUrl}/health/ready`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(200);
  }
  throw new Error(
    `${service.app} was not ready within ${READY_TIMEOUT_MS / 1000} s; its log:\n${await tail(service.logFile)}`,
  );
}

/**
 * The built services (dist/apps/<app>/main.js; all four unless `options.apps` says), each alone as
 * a container runs it, on a database and RabbitMQ vhost of the benchmark's own, with the study
 * store under `workDir`, API authentication off and a fresh SECRETS_KEY. Everything is undone
 * through `cleanup`.
 */
export async function startPacslink<A extends AppName = AppName>(
  workDir: string,
  cleanup: Cleanup,
  options: StartOptions<A> = {},
): Promise<PacslinkStack<A>> {
  const apps = options.apps ?? (APPS as readonly AppName[] as readonly A[]);
  if (!apps.includes('config-service' as A)) throw new Error('the services need config-service');
  const missing = apps.filter((app) => !existsSync(mainOf(app, options.distDir)));
  if (missing.length > 0) {
    throw new Error(
      `${missing.map((app) => mainOf(app, options.distDir)).join(', ')} missing: run \`npm run build\` first`,
    );
  }
  const adminUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const brokerUrl = process.env.AMQP_URL ?? DEFAULT_AMQP_URL;
  const management = new ManagementApi(process.env.RABBITMQ_MANAGEMENT_URL ?? managementUrlOf(brokerUrl));
  const suffix = options.name === undefined ? '' : `_${options.name}`;
  const database = `pacslink_bench_${process.pid}${suffix}`;
  const vhost = `pacslink-bench-${process.pid}${suffix.replace(/_/g, '-')}`;

  cleanup.add(`drop database ${database}`, () =>
    adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`),
  );
  await adminQuery(adminUrl, `CREATE DATABASE ${quoteIdentifier(database)}`);
  cleanup.add(`delete vhost ${vhost}`, () => management.deleteVhost(vhost));
  await management.createVhost(vhost, decodeURIComponent(new URL(brokerUrl).username || 'guest'));

  const storeDir = join(workDir, options.name === undefined ? 'store' : `store-${options.name}`);
  const logsDir = join(workDir, options.name === undefined ? 'logs' : `logs-${options.name}`);
  await mkdir(storeDir, { recursive: true });
  await mkdir(logsDir, { recursive: true });
  const amqpUrl = amqpUrlFor(brokerUrl, vhost);
  const shared: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: withDatabase(adminUrl, database),
    AMQP_URL: amqpUrl,
    STORE_DIR: storeDir,
    SECRETS_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    LOG_FORMAT: 'json',
  };
  delete shared.API_KEYS;

  const services = {} as Record<A, RunningService>;
  const replicas: Record<string, RunningService> = {};
  const children: [RunningService, ChildProcess][] = [];
  const processes: { label: string; app: A; env?: NodeJS.ProcessEnv }[] = [
    ...apps.map((app) => ({ label: app, app })),
    ...Object.entries(options.replicas ?? {}).map(([label, replica]) => ({ label, ...replica })),
  ];
  for (const { label, app, env: ownEnv } of processes) {
    const port = await freePort();
    const logFile = join(logsDir, `${label}.log`);
    const nodeOptions = await manifestNodeOptions(app);
    const env: NodeJS.ProcessEnv = {
      ...shared,
      ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }),
      ...options.env?.[app],
      ...ownEnv,
      HTTP_PORT: String(port),
    };
    const scpPort = app === 'dimse-worker' ? await freePort() : undefined;
    if (scpPort !== undefined) env.SCP_PORT = String(scpPort);
    const output = openSync(logFile, 'a');
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs?.[app] ?? []), mainOf(app, options.distDir)],
      {
        cwd: REPO_ROOT,
        env,
        stdio: ['ignore', output, output],
        detached: true,
      },
    );
    closeSync(output);
    if (child.pid === undefined) throw new Error(`could not start ${label}`);
    const pid = child.pid;
    const removeHook = cleanup.addExitHook(`kill ${label}`, () => child.kill('SIGKILL'));
    cleanup.add(`stop ${label} (pid ${pid})`, async () => {
      await stopProcess(child);
      removeHook();
    });
    const service: RunningService = { app, pid, baseUrl: `http://127.0.0.1:${port}`, logFile, scpPort };
    if (ownEnv === undefined) services[app] = service;
    else replicas[label] = service;
    children.push([service, child]);
    log(`started ${label} (pid ${pid}, http ${port}, log ${logFile})`);
  }
  await Promise.all(children.map(([service, child]) => waitReady(service, child)));
  log(`${processes.map((entry) => entry.label).join(', ')} ready`);
  const configService = (services as Partial<Record<AppName, RunningService>>)['config-service'];
  return { apiUrl: `${configService?.baseUrl}/api/v1`, amqpUrl, storeDir, services, replicas };
}
