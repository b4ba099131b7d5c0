import type { BatchRunControl } from '@pacslink/export-batch';
import type { StudyStore } from '@pacslink/store';

/** At most this many stored files wait for their fsync together… */
const MAX_PENDING_FILES = 64;
/** …or this long since the first of them: progress goes on under a slow PACS too. */
const MAX_PENDING_MS = 1_000;

interface Pending {
  sopInstanceUid: string;
  path: string;
  bytes: number;
}

/**
 * Instances written into the study store without an fsync each (`syncFile: false`), made durable
 * together (StudyStore.syncFiles: four fsyncs at a time, one per directory) before their success
 * is reported: config-service indexes only files that survive a power loss, as with one fsync per
 * file, while the PACS's next sub-operation does not wait for the disk after each instance. A
 * worker that dies in between reported nothing of them: the batch goes again and fetches them again.
 */
export class DurableOutcomes {
  private pending: Pending[] = [];
  private firstPendingAt = 0;

  constructor(
    private readonly studyStore: StudyStore,
    private readonly run: BatchRunControl,
  ) {}

  /** One more stored file; resolves once it is reported or left waiting for the next sync. */
  async stored(sopInstanceUid: string, path: string, bytes: number): Promise<void> {
    if (this.pending.length === 0) this.firstPendingAt = Date.now();
    this.pending.push({ sopInstanceUid, path, bytes });
    if (this.pending.length >= MAX_PENDING_FILES || Date.now() - this.firstPendingAt >= MAX_PENDING_MS) {
      await this.flush();
    }
  }

  /** fsyncs what waits, then reports it stored; rejects (nothing of it reported) when a sync fails. */
  async flush(): Promise<void> {
    const files = this.pending;
    if (files.length === 0) return;
    this.pending = [];
    await this.studyStore.syncFiles(files.map((file) => file.path));
    for (const { sopInstanceUid, path, bytes } of files) {
      this.run.outcome({ sopInstanceUid, status: 'success', path }, bytes);
    }
  }
}
