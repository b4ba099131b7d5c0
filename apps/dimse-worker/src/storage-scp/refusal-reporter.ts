import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { StorageScpReports, type StorageScpRefusedData } from '@pacslink/contracts';
import { ConfirmedPublisher, createEnvelope } from '@pacslink/messaging';

/** Repeats of one refusal within this long are folded into one report (a peer retrying in a loop). */
export const REFUSAL_WINDOW_MS = 60_000;

type Refusal = Omit<StorageScpRefusedData, 'count'>;

/**
 * Reports the Storage SCP's refusals to config-service for its audit: the first of a kind at
 * once, repeats within REFUSAL_WINDOW_MS as one report with their count when the window ends, so
 * a peer that retries forever costs one audit entry a minute, not one per attempt.
 */
@Injectable()
export class RefusalReporter implements OnModuleDestroy {
  private readonly logger = new Logger('StorageScp');
  private readonly windows = new Map<string, { refusal: Refusal; repeats: number; timer: NodeJS.Timeout }>();

  constructor(private readonly publisher: ConfirmedPublisher) {}

  refused(refusal: Refusal): void {
    const key = JSON.stringify([
      refusal.callingAeTitle,
      refusal.calledAeTitle,
      refusal.remoteAddress,
      refusal.reason,
    ]);
    const open = this.windows.get(key);
    if (open !== undefined) {
      open.repeats += 1;
      return;
    }
    const timer = setTimeout(() => {
      const window = this.windows.get(key);
      this.windows.delete(key);
      if (window !== undefined && window.repeats > 0) void this.publish(window.refusal, window.repeats);
    }, REFUSAL_WINDOW_MS);
    timer.unref();
    this.windows.set(key, { refusal, repeats: 0, timer });
    void this.publish(refusal, 1);
  }

  onModuleDestroy(): void {
    for (const window of this.windows.values()) clearTimeout(window.timer);
    this.windows.clear();
  }

  private async publish(refusal: Refusal, count: number): Promise<void> {
    try {
      await this.publisher.publish(
        StorageScpReports.Refused.exchange,
        createEnvelope(StorageScpReports.Refused, { ...refusal, count }),
      );
    } catch (error) {
      this.logger.warn({
        msg: 'a refused association could not be reported for the audit',
        callingAeTitle: refusal.callingAeTitle,
        count,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
