import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../net/free-port';

/** A listener that accepts connections and never sends a byte. */
export async function startSilentListener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${String(child.spawnfile)} exited: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${String(child.spawnfile)} did not listen on ${port} within 15 s: ${output()}`);
}

export interface DcmtkPeer {
  port: number;
  aeTitle: string;
  stop(): Promise<void>;
}

/**
 * Starts a DCMTK tool of the test's own on a free port (TCP_NODELAY=1, see dicom-peers notes trap 1)
 * and stops exactly that process, by its pid, at the end.
 */
export async function startDcmtk(
  tool: 'storescp' | 'dcmqrscp',
  args: (port: number) => string[],
  aeTitle: string,
): Promise<DcmtkPeer> {
  const port = await freePort();
  const child = spawn(tool, args(port), {
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) =>
      reject(new Error(`${tool} could not start (install dcmtk): ${error.message}`)),
    );
  });
  await spawned;
  await waitForPort(port, child, () => output);
  return {
    port,
    aeTitle,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface DcmqrscpOptions {
  /** Command-line options before the config, e.g. `+xi` (Implicit VR only) or `--disable-get`. */
  extra?: string[];
  /** The AE titles it may C-MOVE to (its HostTable), each at 127.0.0.1:port. */
  moveDestinations?: { aeTitle: string; port: number }[];
}

/**
 * A DCMTK dcmqrscp Query/Retrieve SCP with one AE title and its own database folder. It rejects
 * any other called AE title (A-ASSOCIATE-RJ, called AE title not recognized), answers C-FIND in
 * the character set of the stored files unless the query declares one it can convert to, and
 * moves only to `moveDestinations`. dcmqrscp forks a child per association (its single-process
 * mode crashes after a C-STORE in DCMTK 3.6.7).
 */
export async function startDcmqrscp(
  dir: string,
  aeTitle: string,
  { extra = [], moveDestinations = [] }: DcmqrscpOptions = {},
): Promise<DcmtkPeer> {
  const dbDir = join(dir, 'db');
  await mkdir(dbDir, { recursive: true });
  const config = join(dir, 'dcmqrscp.cfg');
  await writeFile(
    config,
    [
      'MaxPDUSize = 16384',
      'MaxAssociations = 16',
      'HostTable BEGIN',
      ...moveDestinations.map(
        (destination, index) =>
          `destination${index} = (${destination.aeTitle}, 127.0.0.1, ${destination.port})`,
      ),
      'HostTable END',
      'VendorTable BEGIN',
      'VendorTable END',
      'AETable BEGIN',
      `${aeTitle} ${dbDir} RW (100, 1024mb) ANY`,
      'AETable END',
      '',
    ].join('\n'),
  );
  return startDcmtk('dcmqrscp', (port) => [...extra, '-c', config, String(port)], aeTitle);
}
