import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { StudyStore } from '@pacslink/store';

/** At start-up and then this often. */
const SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * Sweeps STORE_DIR/tmp of what crashed processes left (StudyStore.sweepTemporaryFiles, an hour
 * after their last write, at once for a dead process of this host): every replica may, since a
 * file is judged by its writer's liveness or its age, never by who sweeps.
 */
@Injectable()
export class StoreSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(StoreSweeper.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(private readonly store: StudyStore) {}

  onApplicationBootstrap(): void {
    this.sweep();
    this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private sweep(): void {
    this.sweeping ??= this.store
      .sweepTemporaryFiles()
      .then((removed) => {
        if (removed.length > 0) {
          this.logger.log({ msg: 'temporary files of crashed writers removed', count: removed.length });
        }
      })
      .catch((error: unknown) =>
        this.logger.warn({ msg: 'study store tmp sweep failed', reason: (error as Error).message }),
      )
      .finally(() => (this.sweeping = undefined));
  }
}
