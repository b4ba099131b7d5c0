import { closeSync, mkdirSync, open, rmSync } from 'node:fs';
import { join } from 'node:path';
import { temporaryFileName, type TemporaryFileOwner } from './temporary-files';

/** An empty temporary file, open for writing, made before a write asked for it. */
export interface OpenTemporaryFile {
  path: string;
  fd: number;
}

/**
 * One empty temporary file created ahead, in libuv's thread pool, for the next write to take.
 * Creating a file is the costliest step of a small write on some filesystems (1.1 ms of kernel
 * time, 2-2.5 ms in all on this project's ext4 under load, where writing 9 KB into it takes 0.1 ms);
 * made ahead it is created while the writer waits for its next data set, not inside the write.
 *
 * The spare lives in its own directory, named as a temporary file (its owner in its name), so the
 * sweeper knows whose it is; a spare older than `maxAgeMs` is thrown away instead of taken, so
 * that no file goes untouched long enough to look abandoned.
 */
export class SpareFile {
  private ready: (OpenTemporaryFile & { createdAt: number }) | undefined;
  private creating = false;
  private dropped = false;
  /** asked once, not at every spare: a mkdir is a syscall too */
  private directoryMade = false;

  constructor(
    private readonly directory: string,
    private readonly owner: TemporaryFileOwner,
    private readonly maxAgeMs: number,
  ) {}

  /** The spare, if one is ready and fresh; a new one is started either way. */
  take(now = Date.now()): OpenTemporaryFile | undefined {
    const spare = this.ready;
    this.ready = undefined;
    this.dropped = false;
    this.prepare();
    if (spare === undefined) return undefined;
    if (now - spare.createdAt <= this.maxAgeMs) return { path: spare.path, fd: spare.fd };
    discard(spare);
    return undefined;
  }

  /** Closes and removes the spare, and one still being made (the process is stopping). */
  drop(): void {
    this.dropped = true;
    if (this.ready !== undefined) discard(this.ready);
    this.ready = undefined;
  }

  private prepare(): void {
    if (this.creating) return;
    this.creating = true;
    if (!this.directoryMade) mkdirSync(this.directory, { recursive: true });
    this.directoryMade = true;
    const path = join(this.directory, temporaryFileName(this.owner));
    open(path, 'wx', (error, fd) => {
      this.creating = false;
      // Not made (the directory removed meanwhile?): the next write creates its own file, and
      // starts another spare.
      if (error !== null) {
        this.directoryMade = false;
        return;
      }
      const spare = { path, fd, createdAt: Date.now() };
      if (this.dropped || this.ready !== undefined) discard(spare);
      else this.ready = spare;
    });
  }
}

function discard(file: OpenTemporaryFile): void {
  closeSync(file.fd);
  rmSync(file.path, { force: true });
}
