import { fsync } from 'node:fs';
import { dirname } from 'node:path';
import { storeIo } from './file-io';

/** fsyncs at once while a batch settles: libuv's thread pool has 4 threads, and the journal joins them. */
const SETTLE_CONCURRENCY = 4;

/**
 * Makes a batch of files written without fsync durable, starting as they are added: each file's
 * fsync runs in the background (`backgroundConcurrency` at once, in libuv's thread pool) while the
 * writer goes on with the next, and `settle()` waits for what is left, then fsyncs each directory
 * once (after every rename into it). A file added again (rewritten) is fsynced again.
 *
 * Each fsync goes through a descriptor of its own: Linux reports a write-back error that no
 * descriptor has seen yet to the next fsync. A file gone (removed meanwhile) is a failure too.
 */
export class FileSyncGroup {
  private readonly queue: string[] = [];
  private readonly directories = new Set<string>();
  private running = 0;
  private concurrency: number;
  private failure: unknown;
  private hasFailed = false;
  private idle: (() => void)[] = [];

  /** `locate`: the absolute path of what `add` is given (the store's relative paths). */
  constructor(
    backgroundConcurrency: number,
    private readonly locate: (path: string) => string = (path) => path,
  ) {
    this.concurrency = backgroundConcurrency;
  }

  add(path: string): void {
    const absolute = this.locate(path);
    this.queue.push(absolute);
    this.directories.add(dirname(absolute));
    this.pump();
  }

  /**
   * Resolves once every file added so far and its directory are durable; rejects with the first
   * failure, which leaves every file of the batch in doubt.
   */
  async settle(): Promise<void> {
    this.concurrency = SETTLE_CONCURRENCY;
    this.pump();
    if (this.running > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.hasFailed) throw this.failure;
    for (const directory of this.directories) this.queue.push(directory);
    this.directories.clear();
    this.pump();
    if (this.running > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.hasFailed) throw this.failure;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const path = this.queue.shift() as string;
      this.running += 1;
      syncPath(path)
        .catch((error: unknown) => {
          if (!this.hasFailed) this.failure = error;
          this.hasFailed = true;
        })
        .finally(() => {
          this.running -= 1;
          this.pump();
          if (this.running === 0) for (const wake of this.idle.splice(0)) wake();
        });
    }
  }
}

/** fsync(2) of a file or directory by its path. */
export async function syncPath(path: string): Promise<void> {
  const io = storeIo();
  const fd = await io.open(path, 'r');
  try {
    await fsyncOf(fd);
  } finally {
    await io.close(fd);
  }
}

/** fsync(2) in libuv's thread pool: it waits for the disk, which the event loop must not. */
export function fsyncOf(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}
