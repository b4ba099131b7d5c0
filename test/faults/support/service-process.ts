import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BuiltServices, FaultApp } from './built-services';
import { killOnExit } from './child-processes';

const READY_TIMEOUT_MS = 120_000;

/** How a replica ended, for the figures' notes and the assertions. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface TerminateResult {
  name: string;
  /** From SIGTERM until the process was gone. */
  exitMs: number;
  /** From SIGTERM until /health/ready stopped answering 200 (at the latest: the exit). */
  unreadyMs: number;
  /** SIGKILLed at the grace period, as Kubernetes does to a pod that outlives it. */
  killedAtGrace: boolean;
}

/**
 * One replica of a built service (`node dist/apps/<app>/main.js`), as a container runs it: its
 * own HTTP port, its output appended to `logFile` (JSON lines, one file per replica).
 */
export class ServiceProcess {
  readonly exited: Promise<Exit>;
  /** Set once the suite kills or stops it: any other exit is a crash. */
  stopping = false;
  private readonly child: ChildProcess;

  private constructor(
    readonly app: FaultApp,
    readonly name: string,
    readonly port: number,
    readonly logFile: string,
    child: ChildProcess,
  ) {
    this.child = child;
    killOnExit(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
  }

  static start(
    built: BuiltServices,
    app: FaultApp,
    name: string,
    port: number,
    env: NodeJS.ProcessEnv,
    logFile: string,
  ): ServiceProcess {
    const output = openSync(logFile, 'a');
    try {
      const child = spawn(process.execPath, [built.mainOf(app)], {
        cwd: built.root,
        env: { ...env, HTTP_PORT: String(port) },
        stdio: ['ignore', output, output],
      });
      if (child.pid === undefined) throw new Error(`could not start ${name}`);
      return new ServiceProcess(app, name, port, logFile, child);
    } finally {
      closeSync(output);
    }
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async ready(): Promise<boolean> {
    const status = await fetch(`${this.baseUrl}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.status,
      () => 0,
    );
    return status === 200;
  }

  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`${this.name} exited during start-up; its log:\n${await this.tail()}`);
      if (await this.ready()) return;
      await sleep(200);
    }
    throw new Error(
      `${this.name} was not ready within ${timeoutMs / 1000} s; its log:\n${await this.tail()}`,
    );
  }

  kill(): Promise<Exit> {
    this.stopping = true;
    if (this.alive) this.child.kill('SIGKILL');
    return this.exited;
  }

  /**
   * SIGTERM as Kubernetes sends it, then SIGKILL at `graceMs`; measures how long readiness and the
   * process outlived the signal.
   */
  async terminate(graceMs: number): Promise<TerminateResult> {
    this.stopping = true;
    if (!this.alive) return { name: this.name, exitMs: 0, unreadyMs: 0, killedAtGrace: false };
    const termAt = Date.now();
    this.child.kill('SIGTERM');
    let unreadyMs: number | undefined;
    const watchReadiness = (async () => {
      while (this.alive) {
        if (!(await this.ready())) {
          unreadyMs = Date.now() - termAt;
          return;
        }
        await sleep(100);
      }
    })();
    const exitedInTime = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!exitedInTime) this.child.kill('SIGKILL');
    const exit = await this.exited;
    await watchReadiness;
    return {
      name: this.name,
      exitMs: exit.at - termAt,
      unreadyMs: unreadyMs ?? exit.at - termAt,
      killedAtGrace: !exitedInTime,
    };
  }

  async tail(lines = 30): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }
}
