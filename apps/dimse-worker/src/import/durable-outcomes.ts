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
 * the PACS's next sub-operation does not wait for the disk. A full group settles in the background
 * while the next one fills; only when that one is full too and the first has not settled yet does
 * the next instance wait (a disk slower than the PACS holds the PACS back, one group behind). A
 * worker that dies in between reported nothing of them: the batch goes again and fetches them again.
 */
export class DurableOutcomes {
  private pending: Pending[] = [];
  private group?: FileSyncGroup;
  private firstPendingAt = 0;
  /** The full group settling in the background; rejects when its sync failed. */
  private settling?: Promise<void>;

  constructor(
    private readonly studyStore: StudyStore,
    private readonly run: BatchRunControl,
  ) {}

  /**
   * One more stored file, reported once its group settled. Rejects when the group before failed
   * to sync (none of its files reported): the store is failing, and the run should stop.
   */
  async stored(sopInstanceUid: string, path: string, bytes: number): Promise<void> {
    if (this.group === undefined) {
      this.group = this.studyStore.syncGroup();
      this.firstPendingAt = Date.now();
    }
    this.group.add(path);
    this.pending.push({ sopInstanceUid, path, bytes });
    if (this.pending.length >= MAX_PENDING_FILES || Date.now() - this.firstPendingAt >= MAX_PENDING_MS) {
      const before = this.settling;
      this.settling = undefined;
      await before;
      this.settling = this.settleAndReport();
    }
  }

  /** Settles all that waits, then reports it stored; rejects (that group not reported) when a sync fails. */
  async flush(): Promise<void> {
    const before = this.settling;
    this.settling = undefined;
    await before;
    await this.settleAndReport();
  }

  private settleAndReport(): Promise<void> {
    const { pending: files, group } = this;
    if (group === undefined) return Promise.resolve();
    this.pending = [];
    this.group = undefined;
    const settled = group.settle().then(() => {
      for (const { sopInstanceUid, path, bytes } of files) {
        this.run.outcome({ sopInstanceUid, status: 'success', path }, bytes);
      }
    });
    // Awaited by the next stored() or flush(); until then its failure is not an unhandled rejection.
    settled.catch(() => undefined);
    return settled;
  }
}
