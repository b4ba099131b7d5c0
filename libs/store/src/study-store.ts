import { createReadStream } from 'node:fs';
import { readdir, rm, stat, utimes } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { uidProblem } from '@pacslink/dicom';
import { storeIo } from './file-io';
import { FileTooLargeError, InvalidDicomError } from './invalid-dicom.error';
import { instanceAttributes, type InstanceAttributes } from './instance-attributes';
import { FileSyncGroup, fsyncOf, syncPath } from './file-sync-group';
import { Part10Scanner } from './part10-scanner';
import { SpareFile, type OpenTemporaryFile } from './spare-file';
import {
  currentOwner,
  isProcessAlive,
  ownerOf,
  temporaryFileName,
  type TemporaryFileOwner,
} from './temporary-files';

/** One instance as stored: its indexed attributes, size, and path relative to the store's root. */
export interface StoredInstance extends InstanceAttributes {
  sizeBytes: number;
  /** Relative to STORE_DIR: `studies/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm`. */
  path: string;
}

export interface WriteOptions {
  /** Refuse the file once it grows past this many bytes. */
  maxBytes?: number;
  /**
   * false: leave the fsync of the file's directory (which makes its new name durable) to a later
   * syncDirectories() over a whole batch, one fsync per directory instead of one per file.
   */
  syncDirectory?: boolean;
  /**
   * false: no fsync at all: the write resolves once the file is in place in the page cache, and a
   * later syncFiles() over a whole batch makes the files and their names durable. Until then a
   * power loss may lose the file (a crash of the process does not: the kernel holds the pages).
   */
  syncFile?: boolean;
}

/** fsyncs at once in syncDirectories(): libuv's thread pool has 4 threads, and the journal joins them. */
const SYNC_CONCURRENCY = 4;
/**
 * fsyncs at once of a syncGroup() while its writer goes on: one, so that three of the pool's four
 * threads stay free for the writer's own work (a file made ahead, a write's fsync elsewhere).
 */
const BACKGROUND_SYNC_CONCURRENCY = 1;

/** A path handed to the store that would leave its root, or a study UID that is not one. */
export class StorePathError extends Error {
  override readonly name = 'StorePathError';
}

const STUDIES_DIR = 'studies';
const TEMPORARY_DIR = 'tmp';
/** Empty temporary files made ahead (StudyStoreOptions.createAhead), apart from those being written. */
const SPARE_DIR = 'spare';

/**
 * A write in progress touches its temporary file at least this often, even while its source is
 * idle, so that its age tells every sweeper — on any host or container sharing the store — that
 * its writer is alive, whatever the caller's idle timeouts.
 */
export const TEMPORARY_FILE_HEARTBEAT_MS = 5 * 60_000;
/** A temporary file untouched this long (twelve missed heartbeats, clocks a little apart) is a leftover. */
export const TEMPORARY_FILE_ABANDONED_MS = 60 * 60_000;

export interface StudyStoreOptions {
  /** TEMPORARY_FILE_HEARTBEAT_MS unless a test needs a shorter one. */
  temporaryHeartbeatMs?: number;
  /**
   * Keep one empty temporary file made ahead, in `rootDir/spare`, for the next write (SpareFile):
   * for a writer of many files in a row, the Storage SCP. Its owner calls dropSpare() at the end.
   */
  createAhead?: boolean;
}

/**
 * The study store: DICOM Part 10 files under `rootDir`, keyed by their UIDs. A write streams to a
 * temporary file in `rootDir/tmp` (the same filesystem, so the final rename is atomic), indexing
 * the file as it passes; only a complete, valid file is renamed into place, and a refused or
 * failed write leaves nothing behind.
 */
export class StudyStore {
  readonly rootDir: string;
  private readonly temporaryHeartbeatMs: number;
  /** This process, as named in its temporary files (asked once: a host name and a readlink). */
  private readonly owner: TemporaryFileOwner;
  private readonly spare: SpareFile | undefined;

  constructor(rootDir: string, options: StudyStoreOptions = {}) {
    this.rootDir = resolve(rootDir);
    this.owner = currentOwner();
    this.temporaryHeartbeatMs = options.temporaryHeartbeatMs ?? TEMPORARY_FILE_HEARTBEAT_MS;
    // A spare no older than one heartbeat is as fresh as a file being written.
    if (options.createAhead === true) {
      this.spare = new SpareFile(join(this.rootDir, SPARE_DIR), this.owner, this.temporaryHeartbeatMs);
    }
  }

  /**
   * Every file call goes through storeIo(): in its `sync` mode (local disks) creating, writing into
   * the page cache, closing and renaming are synchronous calls of microseconds, while each trip
   * through libuv's thread pool costs a hand-off to a pool thread and back, about 0.1 ms of the
   * event loop's time and more of waiting on a busy machine. The Storage SCP paid ten such trips per
   * received instance (measured: docs/performance/dimse-engine-benchmark.md). On network storage
   * (`pooled` mode) each call is such a trip, so that a slow server stalls this write, not the
   * process. The fsyncs wait for the disk and are in the pool in both modes.
   */
  async write(source: AsyncIterable<Buffer | string>, options: WriteOptions = {}): Promise<StoredInstance> {
    const io = storeIo();
    const { path: temporaryPath, fd } = (await this.spare?.take()) ?? (await this.createTemporaryFile());
    let closed = false;
    const heartbeat = setInterval(() => {
      const now = new Date();
      utimes(temporaryPath, now, now).catch(() => undefined);
    }, this.temporaryHeartbeatMs);
    heartbeat.unref();
    const scanner = new Part10Scanner();
    try {
      let sizeBytes = 0;
      for await (const chunk of source) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        sizeBytes += bytes.length;
        if (options.maxBytes !== undefined && sizeBytes > options.maxBytes) {
          throw new FileTooLargeError(options.maxBytes);
        }
        scanner.push(bytes);
        for (let written = 0; written < bytes.length;) written += await io.write(fd, bytes, written);
      }
      const attributes = instanceAttributes(scanner.finish());
      clearInterval(heartbeat);
      if (options.syncFile !== false) await fsyncOf(fd);
      closed = true;
      await io.close(fd);
      const path = instancePath(attributes);
      const absolute = this.absolutePath(path);
      await io.mkdirs(dirname(absolute));
      // Same SOP Instance UID again: the rename replaces the earlier file in one step.
      await io.rename(temporaryPath, absolute);
      // The file's own fsync does not make its new name durable; its directory's does.
      if (options.syncFile !== false && options.syncDirectory !== false) await syncPath(dirname(absolute));
      return { ...attributes, sizeBytes, path };
    } catch (error) {
      clearInterval(heartbeat);
      if (!closed) await io.close(fd);
      await io.remove(temporaryPath);
      if (error instanceof InvalidDicomError && error.sopInstanceUid === undefined) {
        throw new InvalidDicomError(error.message, scanner.sopInstanceUid());
      }
      throw error;
    }
  }

  /** Closes and removes the file made ahead (createAhead), e.g. when the process stops. */
  async dropSpare(): Promise<void> {
    await this.spare?.drop();
  }

  private async createTemporaryFile(): Promise<OpenTemporaryFile> {
    const io = storeIo();
    const temporaryDir = join(this.rootDir, TEMPORARY_DIR);
    await io.mkdirs(temporaryDir);
    const path = join(temporaryDir, temporaryFileName(this.owner));
    return { path, fd: await io.open(path, 'wx') };
  }

  /**
   * Removes what crashed writers left in `rootDir/tmp` and `rootDir/spare`, never a file a live
   * process is writing or keeps ahead:
   * at once a file whose name says its writer was a process of this host's PID namespace that no
   * longer exists; otherwise a file untouched for `maxAgeMs`, which no live writer's file is
   * (its heartbeat touches it), whichever host or container it runs on. Answers the names removed.
   */
  async sweepTemporaryFiles(maxAgeMs = TEMPORARY_FILE_ABANDONED_MS, now = Date.now()): Promise<string[]> {
    const self = this.owner;
    const removed: string[] = [];
    for (const directory of [TEMPORARY_DIR, SPARE_DIR].map((name) => join(this.rootDir, name))) {
      const names = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      for (const name of names) {
        const path = join(directory, name);
        // Gone meanwhile: its writer renamed it into place or removed it.
        const stats = await stat(path).catch(() => undefined);
        if (!stats?.isFile()) continue;
        const owner = ownerOf(name);
        const writerDead =
          owner !== undefined &&
          owner.host === self.host &&
          owner.pid !== self.pid &&
          !isProcessAlive(owner.pid);
        if (writerDead || now - stats.mtimeMs > maxAgeMs) {
          await rm(path, { force: true });
          removed.push(name);
        }
      }
    }
    return removed;
  }

  /**
   * Reads a file already in place (written by another process, e.g. dimse-worker's Storage SCP)
   * and answers what `write` answered for it: its indexed attributes, size and path. Refuses a
   * file whose attributes put it at another path than `relativePath`.
   */
  async scan(relativePath: string): Promise<StoredInstance> {
    const scanner = new Part10Scanner();
    let sizeBytes = 0;
    for await (const chunk of createReadStream(this.absolutePath(relativePath)) as AsyncIterable<Buffer>) {
      sizeBytes += chunk.length;
      scanner.push(chunk);
    }
    const attributes = instanceAttributes(scanner.finish());
    const path = instancePath(attributes);
    if (path !== relativePath) {
      throw new InvalidDicomError(
        `${relativePath} holds the instance that belongs at ${path}`,
        attributes.sopInstanceUid,
      );
    }
    return { ...attributes, sizeBytes, path };
  }

  /** Makes the names of files written with `syncDirectory: false` durable, one fsync per directory. */
  async syncDirectories(relativePaths: Iterable<string>): Promise<void> {
    const directories = new Set([...relativePaths].map((path) => dirname(this.absolutePath(path))));
    await syncAll([...directories]);
  }

  /**
   * Makes files written with `syncFile: false` durable, each file's data then each directory once
   * (FileSyncGroup); rejects with the first failure (a file gone included).
   */
  async syncFiles(relativePaths: Iterable<string>): Promise<void> {
    const group = this.syncGroup();
    for (const path of new Set(relativePaths)) group.add(path);
    await group.settle();
  }

  /**
   * A batch of files written with `syncFile: false` (paths relative to the root), each fsynced in
   * the background as soon as it is added, the rest and the directories at `settle()`: a writer of
   * many files in a row (the Storage SCP, SCP_DURABILITY=association) waits at its end only for
   * what the disk has not done meanwhile.
   */
  syncGroup(): FileSyncGroup {
    return new FileSyncGroup(BACKGROUND_SYNC_CONCURRENCY, (path) => this.absolutePath(path));
  }

  read(relativePath: string): Readable {
    return createReadStream(this.absolutePath(relativePath));
  }

  absolutePath(relativePath: string): string {
    const absolute = resolve(this.rootDir, relativePath);
    const inside = relative(this.rootDir, absolute);
    if (inside === '' || isAbsolute(inside) || inside === '..' || inside.startsWith(`..${sep}`)) {
      throw new StorePathError(`"${relativePath}" is not a path inside the study store`);
    }
    return absolute;
  }

  async removeStudy(studyInstanceUid: string): Promise<void> {
    const problem = uidProblem(studyInstanceUid);
    if (problem !== undefined) {
      throw new StorePathError(`"${studyInstanceUid}" is not a Study Instance UID: it ${problem}`);
    }
    await rm(this.absolutePath(join(STUDIES_DIR, studyInstanceUid)), { recursive: true, force: true });
  }
}

/**
 * syncPath of every path, SYNC_CONCURRENCY at once: fsyncs waiting together are committed together
 * by the filesystem's journal, where one after another each waits for a commit of its own.
 */
async function syncAll(paths: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) await syncPath(paths[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(SYNC_CONCURRENCY, paths.length) }, worker));
}

/** The UIDs were validated (PS3.5 9.1: digits and periods only), so they are safe path segments. */
function instancePath(attributes: InstanceAttributes): string {
  return [
    STUDIES_DIR,
    attributes.studyInstanceUid,
    attributes.seriesInstanceUid,
    `${attributes.sopInstanceUid}.dcm`,
  ].join('/');
}
