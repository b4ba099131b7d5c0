import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';

/**
 * A file whose open(2) for reading waits, as a call to a stalled network filesystem's server does,
 * without root or FUSE: a FIFO at `path`, opened for reading only once a writer comes. The writer
 * is another process that comes `delayMs` after `release()`, so that it comes even while this
 * process's event loop is the one held; it writes one byte and closes.
 */
export function stalledFile(path: string): { release(delayMs: number): Promise<void> } {
  execFileSync('mkfifo', [path]);
  return {
    async release(delayMs) {
      const writer = spawn('sh', ['-c', 'sleep "$1"; printf x > "$0"', path, String(delayMs / 1000)], {
        stdio: 'ignore',
      });
      await once(writer, 'exit');
    },
  };
}

/**
 * Runs `operation` while a timer ticks every `tickMs`, and answers how it settled and the longest
 * time the event loop went without a tick (a synchronous call that blocks shows as a gap as long
 * as the block).
 */
export async function longestEventLoopGap<T>(
  operation: () => Promise<T>,
  tickMs = 5,
): Promise<{ settled: PromiseSettledResult<T>; gapMs: number }> {
  let last = performance.now();
  let gapMs = 0;
  const tick = (): void => {
    const now = performance.now();
    gapMs = Math.max(gapMs, now - last);
    last = now;
  };
  const ticker = setInterval(tick, tickMs);
  try {
    const [settled] = await Promise.allSettled([Promise.resolve().then(operation)]);
    tick();
    return { settled, gapMs };
  } finally {
    clearInterval(ticker);
  }
}
