import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidUid } from '@pacslink/dicom';
import { PEERS_HINT, type OrthancPeer } from './peers';
import { freePorts } from '../net/free-port';

export interface RejectingOrthancOptions {
  /** SOP Instance UIDs that Orthanc refuses to store (its Lua ReceivedInstanceFilter answers false). */
  rejectSopInstanceUids: readonly string[];
  /** Default: a new folder under the OS temp dir, removed by stop(). */
  dataDir?: string;
  /** Default 60 s. */
  startTimeoutMs?: number;
}

export interface RejectingOrthanc extends Omit<OrthancPeer, 'worklistDir'> {
  dataDir: string;
  /** Stops this Orthanc (by its own pid) and removes its data dir when the helper created it. */
  stop(): Promise<void>;
}

const PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
const USER = 'pacs';
const PASSWORD = 'pacs-secret';

/** A Lua table literal of UIDs; UIDs are digits and dots, checked so nothing else reaches the script. */
function luaUidSet(uids: readonly string[]): string {
  for (const uid of uids) {
    if (!isValidUid(uid)) throw new Error(`rejectSopInstanceUids: "${uid}" is not a UID`);
  }
  return `{ ${uids.map((uid) => `["${uid}"] = true`).join(', ')} }`;
}

function luaScript(uids: readonly string[]): string {
  // Orthanc calls ReceivedInstanceFilter for every instance it receives (DIMSE, REST, STOW-RS).
  // Returning false is no use here: Orthanc 1.10 then answers "FilteredOut" and DICOMweb plugin
  // 1.7 reports the instance as stored. Raising an error makes Orthanc refuse to store it; the
  // plugin then leaves it out of its STOW-RS answer (neither referenced nor failed).
  return [
    `local rejected = ${luaUidSet(uids)}`,
    'function ReceivedInstanceFilter(dicom, origin, info)',
    '  if rejected[dicom.SOPInstanceUID] then',
    "    error('pacslink test: this SOP instance is refused')",
    '  end',
    '  return true',
    'end',
    '',
  ].join('\n');
}

async function waitUntilReady(httpUrl: string, child: ChildProcess, timeoutMs: number, log: string) {
  const deadline = Date.now() + timeoutMs;
  const authorization = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const response = await fetch(`${httpUrl}/system`, {
        headers: { authorization },
        signal: AbortSignal.timeout(2_000),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const tail = (await readFile(log, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
  child.kill('SIGKILL');
  throw new Error(
    `the rejecting Orthanc did not become ready within ${timeoutMs} ms:\n${tail}\n${PEERS_HINT}`,
  );
}

/**
 * A second Orthanc of its own (own ports, own data dir, DICOMweb plugin, HTTP Basic pacs/pacs-secret)
 * that stores everything except the listed SOP instances: the "server that fails one instance" of
 * the export tests. Never touches the shared peers of scripts/test-peers.sh.
 *
 * How Orthanc 1.10 / DICOMweb plugin 1.7 then answer:
 * - STOW-RS: the refused instance is missing from the answer (neither ReferencedSOPSequence nor
 *   FailedSOPSequence), and the plugin stops reading that request there: LATER parts of the same
 *   request are neither stored nor mentioned either; earlier parts and other requests are stored.
 *   Make the refused instance the last of its request to have exactly one failure.
 * - DIMSE C-STORE: the refused instance gets status 0xA700 (Refused: Out of Resources); the ones
 *   before it are stored (DCMTK storescu then stops sending, by its own choice).
 */
export async function startRejectingOrthanc(options: RejectingOrthancOptions): Promise<RejectingOrthanc> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'pacslink-rejecting-orthanc-')));
  const [dicomPort, httpPort] = await freePorts(2);
  const dbDir = join(dataDir, 'db');
  await mkdir(dbDir, { recursive: true });
  const script = join(dataDir, 'reject.lua');
  await writeFile(script, luaScript(options.rejectSopInstanceUids));
  const config = join(dataDir, 'orthanc.json');
  await writeFile(
    config,
    JSON.stringify(
      {
        Name: 'pacslink-rejecting-orthanc',
        StorageDirectory: dbDir,
        IndexDirectory: dbDir,
        Plugins: [PLUGIN],
        LuaScripts: [script],
        HttpServerEnabled: true,
        HttpPort: httpPort,
        RemoteAccessAllowed: false,
        AuthenticationEnabled: true,
        RegisteredUsers: { [USER]: PASSWORD },
        DicomServerEnabled: true,
        DicomAet: 'REJECTING',
        DicomPort: dicomPort,
        DefaultEncoding: 'Utf8',
        SaveJobs: false,
        DicomWeb: { Enable: true, Root: '/dicom-web/', Ssl: false },
      },
      null,
      2,
    ),
  );
  const log = join(dataDir, 'orthanc.log');
  const child = spawn('Orthanc', [`--logfile=${log}`, config], {
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: 'ignore',
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) =>
      reject(new Error(`cannot start Orthanc (${error.message}): ${PEERS_HINT}`)),
    );
  });
  await spawned;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  await waitUntilReady(httpUrl, child, options.startTimeoutMs ?? 60_000, log);

  return {
    aet: 'REJECTING',
    host: '127.0.0.1',
    port: dicomPort,
    httpUrl,
    dicomWebUrl: `${httpUrl}/dicom-web`,
    user: USER,
    password: PASSWORD,
    dataDir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killLater = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(killLater);
      }
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
