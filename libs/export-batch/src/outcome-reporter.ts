import {
  ExportBatchReports,
  MAX_REPORT_OUTCOMES,
  type ExportBatchFailureData,
  type ExportBatchRef,
  type InstanceOutcomeData,
  type MessageContract,
} from '@pacslink/contracts';

/** Publishes a report and resolves once the broker confirmed it. */
export type PublishReport = <T extends object>(contract: MessageContract<T>, data: T) => Promise<void>;

export interface OutcomeReporterTiming {
  /** Outcomes are reported at most this often (the contract: about two progress events a second). */
  flushIntervalMs: number;
  /** Without outcomes (one big instance), a report still goes out this often to keep the lease. */
  heartbeatIntervalMs: number;
}

export const DEFAULT_REPORTER_TIMING: OutcomeReporterTiming = {
  flushIntervalMs: 500,
  heartbeatIntervalMs: 30_000,
};

/**
 * Collects per-instance outcomes and reports them in order: progress reports while the batch runs,
 * one finished report at the end. Reports never overlap (each waits for the previous confirm).
 */
export class OutcomeReporter {
  private pending: InstanceOutcomeData[] = [];
  private chain: Promise<void> = Promise.resolve();
  private lastReportAt = Date.now();
  private readonly timer: NodeJS.Timeout;
  private failure?: Error;

  constructor(
    private readonly ref: ExportBatchRef,
    private readonly publish: PublishReport,
    private readonly timing: OutcomeReporterTiming = DEFAULT_REPORTER_TIMING,
  ) {
    this.timer = setInterval(() => this.tick(), timing.flushIntervalMs);
  }

  add(outcome: InstanceOutcomeData): void {
    this.pending.push(outcome);
  }

  /** Stops the timer, reports the rest and the end; rejects if any report could not be published. */
  async finish(failure?: ExportBatchFailureData): Promise<void> {
    clearInterval(this.timer);
    await this.chain;
    if (this.failure) throw this.failure;
    const rest = this.pending.splice(0);
    while (rest.length > MAX_REPORT_OUTCOMES) {
      await this.publish(ExportBatchReports.Progress, {
        ...this.ref,
        outcomes: rest.splice(0, MAX_REPORT_OUTCOMES),
      });
    }
    await this.publish(ExportBatchReports.Finished, {
      ...this.ref,
      outcomes: rest,
      ...(failure ? { failure } : {}),
    });
  }

  /** Stops without a final report (the delivery will be redelivered and the batch sent again). */
  abandon(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const heartbeatDue = Date.now() - this.lastReportAt >= this.timing.heartbeatIntervalMs;
    if (this.pending.length === 0 && !heartbeatDue) return;
    const outcomes = this.pending.splice(0, MAX_REPORT_OUTCOMES);
    this.lastReportAt = Date.now();
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await this.publish(ExportBatchReports.Progress, { ...this.ref, outcomes });
      } catch (error) {
        // Kept and thrown by finish(): outcomes not reported must not be lost silently.
        this.failure = error as Error;
        this.pending.unshift(...outcomes);
      }
    });
  }
}
