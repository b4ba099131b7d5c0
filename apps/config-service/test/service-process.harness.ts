import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '@pacslink/testing';

const ROOT = resolve(__dirname, '../../..');
const READY_TIMEOUT_MS = 60_000;

export type AppName = 'config-service' | 'dimse-worker' | 'dicomweb-worker' | 'mwl-mpps-service';

/** One log line of the process (pino JSON), or `{ msg }` for a line that is not JSON. */
export type LogLine = Record<string, unknown> & { msg?: string };

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when it exited. */
  at: number;
}

export interface ServiceProcess {
  app: AppName;
  /** the process id, e.g. to read its memory figures in /proc/<pid>/status */
  pid: number;
  baseUrl: string;
  /** Every log line so far. */
  logs: LogLine[];
  /** Resolves once the process has exited. */
  exited: Promise<ProcessExit>;
  alive(): boolean;
  kill(signal: NodeJS.Signals): void;
  /** SIGKILL unless it has exited already; resolves once it is gone. */
  stop(): Promise<void>;
}

/**
 * A service as its own process (from its TypeScript source, transpiled as it loads), as a container
 * runs it: to send it real signals. Resolves once /health/ready answers 200. `env` goes over
 * JSON logs at info level on a free HTTP_PORT; nothing else is inherited but PATH.
 */
export async function startServiceProcess(
  app: AppName,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', `apps/${app}/src/main.ts`],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        TS_NODE_PROJECT: `apps/${app}/tsconfig.app.json`,
        HTTP_PORT: String(port),
        // dimse-worker's Storage SCP on any free port: tests run many workers on one host.
        SCP_PORT: '0',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: LogLine[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    });
  }
  const exited = new Promise<ProcessExit>((done) =>
    child.once('exit', (code, signal) => done({ code, signal, at: Date.now() })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const running: ServiceProcess = {
    app,
    pid: child.pid ?? 0,
    baseUrl: `http://127.0.0.1:${port}`,
    logs,
    exited,
    alive: () => !gone,
    kill: (signal) => child.kill(signal),
    async stop() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (gone) {
      const tail = logs.slice(-15).map((line) => JSON.stringify(line));
      throw new Error(`${app} exited during start-up; its log:\n${tail.join('\n')}`);
    }
    const status = await fetch(`${running.baseUrl}/health/ready`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return running;
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(`${app} was not ready within ${READY_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((wait) => setTimeout(wait, 200));
  }
}
