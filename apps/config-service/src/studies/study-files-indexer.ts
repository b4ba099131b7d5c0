import { Injectable, Logger } from '@nestjs/common';
import { rm } from 'node:fs/promises';
import { StudyStore, type StoredInstance as StoredInstanceFile } from '@pacslink/store';
import { StudiesRepository } from './studies.repository';

/** Files read at once: enough to keep the thread pool (UV_THREADPOOL_SIZE=16) busy, not all of it. */
const SCANS_AT_ONCE = 8;

/** What a log line says of where files came from (ids, never patient data). */
export type IndexingContext = Record<string, string>;

/**
 * Indexes files a worker wrote into the study store and named by path (the Storage SCP's report,
 * an import's outcomes): the attributes come from the files, read here, so that the index holds
 * what the files hold, whatever a report says, and no patient data travels on the broker.
 */
@Injectable()
export class StudyFilesIndexer {
  private readonly logger = new Logger(StudyFilesIndexer.name);

  constructor(
    private readonly store: StudyStore,
    private readonly repository: StudiesRepository,
  ) {}

  /**
   * Reads each file, SCANS_AT_ONCE at a time (one read at a time left the thread pool idle while
   * the report's last files waited), in the order given; a path that is not (or no longer) a
   * readable instance at that path is left out.
   */
  async scan(paths: Iterable<string>, context: IndexingContext): Promise<StoredInstanceFile[]> {
    const unique = [...new Set(paths)];
    const files = Array.from<StoredInstanceFile | undefined>({ length: unique.length });
    let next = 0;
    const scanNext = async (): Promise<void> => {
      for (let at = next++; at < unique.length; at = next++)
        files[at] = await this.scanOne(unique[at], context);
    };
    await Promise.all(Array.from({ length: Math.min(SCANS_AT_ONCE, unique.length) }, scanNext));
    return files.filter((file): file is StoredInstanceFile => file !== undefined);
  }

  private async scanOne(path: string, context: IndexingContext): Promise<StoredInstanceFile | undefined> {
    try {
      return await this.store.scan(path);
    } catch (error) {
      // Gone since (a newer push of the instance moved it, a DELETE of the study): nothing to index.
      this.logger.warn({
        msg: 'a reported file is not indexed',
        ...context,
        path,
        reason: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  }

  /**
   * Indexes the files (idempotent: indexing again replaces each row with the same one), removes
   * what they made stale, and answers those indexed: a move of an instance that an active transfer
   * holds is refused, as for an upload (the transfer's file stays; the new copy goes).
   */
  async index(files: readonly StoredInstanceFile[], context: IndexingContext): Promise<StoredInstanceFile[]> {
    const { stalePaths, refused } = await this.repository.indexInstances(files);
    const current = new Set(files.map((file) => file.path));
    for (const path of stalePaths.filter((stale) => !current.has(stale))) {
      await rm(this.store.absolutePath(path), { force: true });
    }
    for (const move of refused) {
      await rm(this.store.absolutePath(move.file.path), { force: true });
      this.logger.warn({
        msg: 'instance not moved: a transfer holds its file',
        ...context,
        sopInstanceUid: move.file.sopInstanceUid,
        transferId: move.transferId,
      });
    }
    const refusedFiles = new Set(refused.map((move) => move.file));
    return files.filter((file) => !refusedFiles.has(file));
  }
}
