import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { dueForRetention, type RetentionPolicy } from './retention-policy';
import { StudyError, StudyErrorCode } from './studies.errors';
import { StudiesRepository } from './studies.repository';
import { StudiesService } from './studies.service';

export const RETENTION_POLICY = Symbol('RETENTION_POLICY');

/** At start-up and then this often. */
const RETENTION_INTERVAL_MS = 60 * 60_000;
/** Studies judged per query: a large backlog is worked off in rounds, never loaded at once. */
const ROUND_SIZE = 100;
/** One replica sweeps at a time; the others skip their turn (pg_try_advisory_lock). */
const RETENTION_LOCK = 'pacslink:store-retention';
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
    private readonly dataSource: DataSource,
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

  /** One sweep now (or the one under way); undefined when another replica holds the turn. */
  runSweep(now = new Date()): Promise<RetentionSweep | undefined> {
    this.sweeping ??= this.sweepUnderLock(now)
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

  private async sweepUnderLock(now: Date): Promise<RetentionSweep | undefined> {
    const cutoff = dueForRetention(this.policy, now);
    if (cutoff === undefined) return { deleted: 0, inUse: 0 };
    const lock = this.dataSource.createQueryRunner();
    await lock.connect();
    try {
      const [{ locked }] = (await lock.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [
        RETENTION_LOCK,
      ])) as { locked: boolean }[];
      if (!locked) return undefined;
      try {
        return await this.deleteDue(cutoff);
      } finally {
        await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [RETENTION_LOCK]);
      }
    } finally {
      await lock.release();
    }
  }

  private async deleteDue(cutoff: Date): Promise<RetentionSweep> {
    const sweep: RetentionSweep = { deleted: 0, inUse: 0 };
    // Keyset pagination past the studies kept (in use): each round starts after the last one seen.
    let after: { updatedAt: Date; studyInstanceUid: string } | undefined;
    for (;;) {
      const due = await this.repository.lastChangedBefore(cutoff, ROUND_SIZE, after);
      for (const study of due) {
        if (await this.deleteOne(study.studyInstanceUid)) sweep.deleted += 1;
        else sweep.inUse += 1;
      }
      if (due.length < ROUND_SIZE) return sweep;
      after = due[due.length - 1];
    }
  }

  /** false when a transfer is using the study; a study already gone counts as deleted. */
  private async deleteOne(studyInstanceUid: string): Promise<boolean> {
    try {
      await this.studies.remove(studyInstanceUid, RETENTION_ACTOR);
      return true;
    } catch (error) {
      if (error instanceof StudyError && error.code === StudyErrorCode.TransferActive) return false;
      if (error instanceof StudyError && error.code === StudyErrorCode.NotFound) return true;
      throw error;
    }
  }
}
