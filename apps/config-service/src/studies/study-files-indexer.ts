import { Injectable, Logger } from '@nestjs/common';
import { rm } from 'node:fs/promises';
import { StudyStore, type StoredInstance as StoredInstanceFile } from '@pacslink/store';
import { StudiesRepository } from './studies.repository';

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

  /** Reads each file; a path that is not (or no longer) a readable instance at that path is left out. */
  async scan(paths: Iterable<string>, context: IndexingContext): Promise<StoredInstanceFile[]> {
    const files: StoredInstanceFile[] = [];
    for (const path of new Set(paths)) {
      try {
        files.push(await this.store.scan(path));
      } catch (error) {
        // Gone since (a newer push of the instance moved it, a DELETE of the study): nothing to index.
        this.logger.warn({
          msg: 'a reported file is not indexed',
          ...context,
          path,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return files;
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
