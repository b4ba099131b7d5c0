import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PEERS_HINT =
  'run `npm run peers:start` (scripts/test-peers.sh) — needs Debian packages orthanc orthanc-dicomweb dcmtk python3-odil';

export interface DicomPeer {
  aet: string;
  host: string;
  port: number;
}

export interface OrthancPeer extends DicomPeer {
  httpUrl: string;
  dicomWebUrl: string;
  user: string;
  password: string;
  /** Orthanc's ModalityWorklists plugin serves the `.wl` files in this folder. */
  worklistDir: string;
  version?: string;
}

export interface PeerEndpoints {
  dataDir: string;
  orthanc: OrthancPeer;
  /** DCMTK storescp; received files land in `dir` named `<Modality>.<SOPInstanceUID>`. */
  storescp: DicomPeer & { dir: string };
  /** DCMTK wlmscpfs; serves the `.wl` files in `dir`, and never returns (0008,0005). */
  wlm: DicomPeer & { dir: string };
  /** Registered in Orthanc as a C-MOVE destination; the test itself must listen there. */
  moveScu: DicomPeer;
  /** Registered in Orthanc for the product's own AE (its Storage SCP port). */
  pacslink: DicomPeer;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: ${PEERS_HINT}`);
  return value;
}

function port(env: Env, name: string, fallback?: number): number {
  const text = env[name] ?? (fallback === undefined ? required(env, name) : String(fallback));
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name}=${text} is not a TCP port`);
  }
  return value;
}

/** Reads what `scripts/test-peers.sh start|env` prints, from the environment by default. */
export function peersFromEnv(env: Env = process.env): PeerEndpoints {
  const host = required(env, 'ORTHANC_HOST');
  return {
    dataDir: required(env, 'PEERS_DATA_DIR'),
    orthanc: {
      aet: required(env, 'ORTHANC_AET'),
      host,
      port: port(env, 'ORTHANC_DICOM_PORT'),
      httpUrl: required(env, 'ORTHANC_HTTP_URL'),
      dicomWebUrl: required(env, 'ORTHANC_DICOMWEB_URL'),
      user: required(env, 'ORTHANC_USER'),
      password: required(env, 'ORTHANC_PASSWORD'),
      worklistDir: required(env, 'ORTHANC_WORKLIST_DIR'),
      version: env.ORTHANC_VERSION,
    },
    storescp: {
      aet: required(env, 'STORESCP_AET'),
      host: env.STORESCP_HOST ?? host,
      port: port(env, 'STORESCP_PORT'),
      dir: required(env, 'STORESCP_DIR'),
    },
    wlm: {
      aet: required(env, 'WLM_AET'),
      host: env.WLM_HOST ?? host,
      port: port(env, 'WLM_PORT'),
      dir: required(env, 'WLM_DIR'),
    },
    moveScu: {
      aet: required(env, 'MOVESCU_AET'),
      host: env.MOVESCU_HOST ?? host,
      port: port(env, 'MOVESCU_PORT'),
    },
    pacslink: {
      aet: env.PACSLINK_AET ?? 'PACSLINK',
      host: env.PACSLINK_HOST ?? host,
      port: port(env, 'PACSLINK_PORT', 11112),
    },
  };
}

/** Parses `KEY=VALUE` lines (the value is everything after the first `=`); other lines are ignored. */
export function parseKeyValueLines(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trimEnd());
    if (match) result[match[1]] = match[2];
  }
  return result;
}

const SCRIPT = join('scripts', 'test-peers.sh');

/** The repository root, found from this file's location (libs/testing/src/peers). */
export function repoRoot(): string {
  const root = resolve(__dirname, '..', '..', '..', '..');
  if (!existsSync(join(root, SCRIPT))) throw new Error(`${SCRIPT} not found under ${root}`);
  return root;
}

export interface PeersCommandOptions {
  /** Default: $PEERS_DATA_DIR, else <repo>/tmp/peers (decided by the script). */
  dataDir?: string;
  /** Default 300 s: a first start may install Debian packages. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

function runScript(command: 'start' | 'stop', options: PeersCommandOptions): Promise<string> {
  const root = repoRoot();
  const timeout = options.timeoutMs ?? 300_000;
  const args = [join(root, SCRIPT), command, ...(options.dataDir ? [options.dataDir] : [])];
  return new Promise((resolvePromise, reject) => {
    execFile(
      'bash',
      args,
      { cwd: root, env: options.env ?? process.env, timeout },
      (error, stdout, stderr) => {
        if (!error) return resolvePromise(stdout);
        const how = error.killed ? `timed out after ${timeout} ms` : `failed (exit ${String(error.code)})`;
        const log = stderr.trim().split('\n').slice(-15).join('\n');
        reject(new Error(`scripts/test-peers.sh ${command} ${how}:\n${log}\n${PEERS_HINT}`));
      },
    );
  });
}

/**
 * Starts (or finds running) Orthanc, storescp and wlmscpfs through scripts/test-peers.sh, copies the
 * endpoints it prints into process.env and returns them.
 */
export async function startPeers(options: PeersCommandOptions = {}): Promise<PeerEndpoints> {
  const values = parseKeyValueLines(await runScript('start', options));
  Object.assign(process.env, values);
  return peersFromEnv(values);
}

/**
 * Whether peers are already running from the data dir (started by hand, or by a concurrent test
 * run): such peers are used as they are and left running.
 */
export function peersRunning(options: PeersCommandOptions = {}): boolean {
  const dataDir = options.dataDir ?? process.env.PEERS_DATA_DIR ?? join(repoRoot(), 'tmp', 'peers');
  return existsSync(join(dataDir, 'run', 'settings.env'));
}

/** Stops the peers started from the data dir; processes it did not start are left alone. */
export async function stopPeers(options: PeersCommandOptions = {}): Promise<void> {
  await runScript('stop', options);
}
