import { execFile, spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DicomJson } from '@pacslink/dicom';
import { freePort, waitForPort } from '@pacslink/testing';

/** Debian's interpreter: python3-odil installs the module for it, not for another python3 on PATH. */
const PYTHON = '/usr/bin/python3';
const INSTALL_HINT =
  'install the Debian package python3-odil (apt-get install -y --no-install-recommends python3-odil; npm run peers:start does)';

/** One request as odil received it, its text decoded by the test SCP (odil-mpps-scp.py). */
export interface ReceivedRequest {
  command: 'N-CREATE' | 'N-SET';
  sopClassUid: string;
  sopInstanceUid: string;
  dataSet: DicomJson | null;
}

export interface OdilMppsScp {
  port: number;
  /** the requests received so far, in order */
  received: ReceivedRequest[];
  /** with checkF7: why each refused request was refused (PS3.4 F.7 checks), in order */
  refusals: string[];
  stop(): Promise<void>;
}

/**
 * odil listens only while it waits for an association (receive_association opens and closes its
 * acceptor each time), so a request right after another one could find the port closed. This
 * listener stays open and hands each connection to odil's port once it accepts, bytes untouched.
 */
async function steadyListener(odilPort: number, port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const attempt = (left: number): void => {
      const upstream = connect(odilPort, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      upstream.once('connect', () => {
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
      });
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNREFUSED' || left === 0 || client.destroyed) return;
        upstream.removeAllListeners('close');
        sockets.delete(upstream);
        setTimeout(() => attempt(left - 1), 10);
      });
    };
    attempt(300);
  });
  // `port`: the one a restarted SCP listens on again (an outage in a test), else any free one.
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Starts the N-CREATE/N-SET SCP written on odil (test/support/odil-mpps-scp.py), an implementation
 * independent of ours, on a free port, and stops exactly that process at the end.
 */
export async function startOdilMppsScp(
  /** setDelayMs: each N-SET applied at once and answered that much later (--set-delay-ms) */
  options: { checkF7?: boolean; port?: number; setDelayMs?: number } = {},
): Promise<OdilMppsScp> {
  await promisify(execFile)(PYTHON, ['-c', 'import odil']).catch((error: Error) => {
    throw new Error(`the MPPS test SCP needs odil for ${PYTHON}: ${INSTALL_HINT} (${error.message.trim()})`);
  });
  const port = await freePort();
  const args = [
    join(__dirname, 'odil-mpps-scp.py'),
    String(port),
    ...(options.checkF7 ? ['--check-f7'] : []),
    ...(options.setDelayMs === undefined ? [] : ['--set-delay-ms', String(options.setDelayMs)]),
  ];
  const child = spawn(PYTHON, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const received: ReceivedRequest[] = [];
  const refusals: string[] = [];
  let output = '';
  let pendingErrors = '';
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('RECEIVED ')) received.push(JSON.parse(line.slice(9)) as ReceivedRequest);
      else output += `${line}\n`;
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    pendingErrors += chunk.toString('utf8');
    const lines = pendingErrors.split('\n');
    pendingErrors = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('F7 REFUSED ')) refusals.push(line.slice(11));
      else output += `${line}\n`;
    }
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new Error(`${PYTHON} could not start: ${error.message}`)));
  });
  await waitForPort(port, child, () => output);
  const listener = await steadyListener(port, options.port);
  return {
    port: listener.port,
    received,
    refusals,
    stop: async () => {
      await listener.close();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
