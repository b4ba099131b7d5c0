import { log } from './log';

type Undo = () => Promise<void> | void;

/**
 * What the benchmark created, undone in reverse order: on success, on an error, and on Ctrl-C
 * (SIGINT/SIGTERM/SIGHUP), so that no database, vhost, process or file of ours is left behind.
 */
export class Cleanup {
  private readonly steps: { what: string; undo: Undo }[] = [];
  private running: Promise<void> | undefined;
  /** Synchronous last resorts for process 'exit' (e.g. SIGKILL of a child): nothing async runs there. */
  private readonly onExit = new Map<string, () => void>();

  /** Register before creating: once cleaning up has begun (Ctrl-C), nothing new may start. */
  add(what: string, undo: Undo): void {
    if (this.running) throw new Error('interrupted: cleaning up, nothing new starts');
    this.steps.push({ what, undo });
  }

  addExitHook(what: string, hook: () => void): () => void {
    this.onExit.set(what, hook);
    return () => this.onExit.delete(what);
  }

  /** Runs every step once, newest first; a failing step is logged and the others still run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) {
        const step = this.steps.pop();
        if (!step) break;
        try {
          await step.undo();
        } catch (error) {
          log(`cleanup: could not ${step.what}: ${(error as Error).message}`);
        }
      }
    })();
    return this.running;
  }

  /** On a signal: clean up, then exit 130 (128 + SIGINT, as a shell reports an interrupted command). */
  installSignalHandlers(): void {
    let signalled = false;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (signalled) return;
        signalled = true;
        log(`${signal}: cleaning up`);
        void this.run().finally(() => process.exit(130));
      });
    }
    process.on('exit', () => {
      for (const hook of this.onExit.values()) hook();
    });
  }
}
