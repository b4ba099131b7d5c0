import type { BatchRunControl } from '@pacslink/export-batch';
import type { FileSyncGroup, StudyStore } from '@pacslink/store';

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
 * in groups (StudyStore.syncGroup: each file's fsync starts in the background as it is added, the
 * rest and the directories when the group settles) before their success is reported:
 * config-service indexes only files that survive a power loss, as with one fsync per file, while
 * the PACS's next sub-operation does not wait for the disk after each instance. A worker that dies
 * in between reported nothing of them: the batch goes again and fetches them again.
 */
export class DurableOutcomes {
  private pending: Pending[] = [];
  private group?: FileSyncGroup;
  private firstPendingAt = 0;

  constructor(
    private readonly studyStore: StudyStore,
    private readonly run: BatchRunControl,
  ) {}

  /** One more stored file; resolves once it is reported or left waiting for the next settle. */
  async stored(sopInstanceUid: string, path: string, bytes: number): Promise<void> {
    if (this.group === undefined) {
      this.group = this.studyStore.syncGroup();
      this.firstPendingAt = Date.now();
    }
    this.group.add(path);
    this.pending.push({ sopInstanceUid, path, bytes });
    if (this.pending.length >= MAX_PENDING_FILES || Date.now() - this.firstPendingAt >= MAX_PENDING_MS) {
      await this.flush();
    }
  }

  /** Settles what waits, then reports it stored; rejects (nothing of it reported) when a sync fails. */
  async flush(): Promise<void> {
    const { pending: files, group } = this;
    if (group === undefined) return;
    this.pending = [];
    this.group = undefined;
    await group.settle();
    for (const { sopInstanceUid, path, bytes } of files) {
      this.run.outcome({ sopInstanceUid, status: 'success', path }, bytes);
    }
  }
}
