import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { dueForRetention, type RetentionPolicy } from './retention-policy';
import { StudyError, StudyErrorCode } from './studies.errors';
import { StudiesRepository } from './studies.repository';
import { StudiesService } from './studies.service';

export const RETENTION_POLICY = Symbol('RETENTION_POLICY');

/** At start-up and then this often. */
const RETENTION_INTERVAL_MS = 60 * 60_000;
/** Studies judged per query: a large backlog is worked off in rounds, never loaded at once. */
const ROUND_SIZE = 100;
/** Deletions by the retention rule are the system's doing: the audit names it. */
const RETENTION_ACTOR = { id: 'system:retention', roles: [] };

export interface RetentionSweep {
  deleted: number;
  /** Due, but a transfer of the study is queued or running: kept until the next sweep. */
  inUse: number;
}

/**
 * The store's retention rule (STORE_RETENTION_DAYS): a study whose last instance arrived more
 * than that many days ago is deleted, rows, audit entry and files, through the same path as
 * `DELETE /studies/{uid}` — so a study a transfer is using is kept. Unset: the store keeps all.
 */
@Injectable()
export class StoreRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(StoreRetention.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<RetentionSweep | undefined>;

  constructor(
    @Inject(RETENTION_POLICY) private readonly policy: RetentionPolicy,
    private readonly repository: StudiesRepository,
    private readonly studies: StudiesService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.policy.keepDays === undefined) return;
    void this.runSweep();
    this.timer = setInterval(() => void this.runSweep(), RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /**
   * One sweep now (or the one under way); undefined when it failed. Replicas may sweep at the same
   * time: each deletion is judged under the study's row locks, so a study is deleted (and audited)
   * once, and the other replica finds it gone. No advisory lock: a session lock would outlive its
   * transaction behind PgBouncer in transaction mode (docs/operations/database.md).
   */
  runSweep(now = new Date()): Promise<RetentionSweep | undefined> {
    this.sweeping ??= this.sweep(now)
      .then((sweep) => {
        if (sweep !== undefined && sweep.deleted + sweep.inUse > 0) {
          this.logger.log({ msg: 'store retention swept', ...sweep, keepDays: this.policy.keepDays });
        }
        return sweep;
      })
      .catch((error: unknown) => {
        this.logger.warn({ msg: 'store retention sweep failed', reason: (error as Error).message });
        return undefined;
      })
      .finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweep(now: Date): Promise<RetentionSweep> {
    const sweep: RetentionSweep = { deleted: 0, inUse: 0 };
    const cutoff = dueForRetention(this.policy, now);
    if (cutoff === undefined) return sweep;
    // Keyset pagination past the studies kept (in use): each round starts after the last one seen.
    let after: { updatedAt: Date; studyInstanceUid: string } | undefined;
    for (;;) {
      const due = await this.repository.lastChangedBefore(cutoff, ROUND_SIZE, after);
      for (const study of due) {
        const outcome = await this.deleteOne(study.studyInstanceUid, cutoff);
        if (outcome !== 'gone') sweep[outcome] += 1;
      }
      if (due.length < ROUND_SIZE) return sweep;
      after = due[due.length - 1];
    }
  }

  /** `gone`: another replica deleted it, or an instance arrived since it was found due. */
  private async deleteOne(studyInstanceUid: string, cutoff: Date): Promise<'deleted' | 'inUse' | 'gone'> {
    try {
      await this.studies.remove(studyInstanceUid, RETENTION_ACTOR, cutoff);
      return 'deleted';
    } catch (error) {
      if (error instanceof StudyError && error.code === StudyErrorCode.TransferActive) return 'inUse';
      if (error instanceof StudyError && error.code === StudyErrorCode.NotFound) return 'gone';
      throw error;
    }
  }
}
