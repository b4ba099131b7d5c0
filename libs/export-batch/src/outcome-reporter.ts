import { Logger } from '@nestjs/common';
import {
  ExportBatchReports,
  MAX_REPORT_OUTCOMES,
  type ExportBatchFailureData,
  type ExportBatchRunRef,
  type InstanceOutcomeData,
  type MessageContract,
  type TransferMethod,
} from '@pacslink/contracts';
import type { BatchRunResult } from './export-batch-runner';
import { ReportNotConfirmedError } from './export-batch.errors';

/** Publishes a report and resolves once the broker confirmed it. */
export type PublishReport = <T extends object>(contract: MessageContract<T>, data: T) => Promise<void>;

export interface OutcomeReporterTiming {
  /** Outcomes are reported at most this often (the contract: about two progress events a second). */
  flushIntervalMs: number;
  /** Without outcomes (one big instance), a report still goes out this often to keep the lease. */
  heartbeatIntervalMs: number;
  /**
   * The waits before each new try of a report the broker did not confirm. After the last try the
   * reporter gives up: `signal` aborts so that the send stops, and finish() rejects.
   */
  retryDelaysMs: readonly number[];
}

/**
 * With the broker's 5 s confirm timeout, giving up takes at most 5 tries x 5 s + 15 s of waits =
 * 40 s, so a worker whose reports stopped getting through stops within a heartbeat (5 s) + 40 s of
 * its last confirmed report: inside the 60 s lease (TRANSFER_LEASE_MS), after which another run
 * takes the batch over (ADR 0006, "Shutdown and reporting" and the amendment of issue 10). The
 * heartbeat is short so that the lease can be, and a dead worker's batch goes on within a minute.
 */
export const DEFAULT_REPORTER_TIMING: OutcomeReporterTiming = {
  flushIntervalMs: 500,
  heartbeatIntervalMs: 5_000,
  retryDelaysMs: [1_000, 2_000, 4_000, 8_000],
};

/**
 * Collects per-instance outcomes and reports them in order: progress reports while the batch runs,
 * one finished report at the end, which carries every outcome of the run again (config-service
 * consumes reports concurrently: the finished report may be applied before a progress report).
 * One report is in flight at a time; one the broker did not confirm is tried again with the same
 * outcomes, and a reporter that gives up says so through `signal`.
 */
export class OutcomeReporter {
  private readonly logger = new Logger(OutcomeReporter.name);
  private readonly timing: OutcomeReporterTiming;
  private readonly gaveUp = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private pending: InstanceOutcomeData[] = [];
  /** Every outcome of the run, by SOP Instance UID: what the finished report carries. */
  private readonly outcomes = new Map<string, InstanceOutcomeData>();
  private inFlight?: Promise<void>;
  private lastReportAt = Date.now();
  private abandoned = false;
  /** A fallback the run made: on the next progress report (once) and on the finished report. */
  private switched?: { method: TransferMethod; fallback: string; reported: boolean };

  constructor(
    private readonly ref: ExportBatchRunRef,
    private readonly publish: PublishReport,
    timing: Partial<OutcomeReporterTiming> = {},
  ) {
    this.timing = { ...DEFAULT_REPORTER_TIMING, ...timing };
    this.timer = setInterval(() => this.tick(), this.timing.flushIntervalMs);
  }

  /** Aborted, with a ReportNotConfirmedError as its reason, once the reporter gave up: stop sending. */
  get signal(): AbortSignal {
    return this.gaveUp.signal;
  }

  /** The run goes on with `method` (C-GET gave way to C-MOVE): reported at once, with why. */
  fallback(method: TransferMethod, reason: string): void {
    this.switched = { method, fallback: reason, reported: false };
  }

  add(outcome: InstanceOutcomeData): void {
    this.pending.push(outcome);
    this.outcomes.set(outcome.sopInstanceUid, outcome);
  }

  /**
   * Stops the timer and reports the end with every outcome of the run (a batch never holds more
   * than one report carries); rejects if any report could not be published.
   */
  async finish(failure?: ExportBatchFailureData, result: BatchRunResult = {}): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
    if (this.gaveUp.signal.aborted) throw this.gaveUp.signal.reason;
    this.pending = [];
    await this.publishWithRetries(ExportBatchReports.Finished, {
      ...this.ref,
      outcomes: [...this.outcomes.values()],
      ...this.switchedFields(),
      ...(failure ? { failure } : {}),
      ...(result.manifest ? { manifest: result.manifest } : {}),
      ...(result.subOperations ? { subOperations: result.subOperations } : {}),
    });
  }

  private switchedFields(): { method?: TransferMethod; fallback?: string } {
    return this.switched ? { method: this.switched.method, fallback: this.switched.fallback } : {};
  }

  /** Stops without a final report (the delivery will be redelivered and the batch sent again). */
  abandon(): void {
    this.abandoned = true;
    clearInterval(this.timer);
  }

  private tick(): void {
    if (this.inFlight || this.gaveUp.signal.aborted) return;
    const heartbeatDue = Date.now() - this.lastReportAt >= this.timing.heartbeatIntervalMs;
    const switchDue = this.switched !== undefined && !this.switched.reported;
    if (this.pending.length === 0 && !heartbeatDue && !switchDue) return;
    const outcomes = this.pending.splice(0, MAX_REPORT_OUTCOMES);
    const switched = this.switched;
    this.inFlight = this.publishWithRetries(ExportBatchReports.Progress, {
      ...this.ref,
      outcomes,
      ...this.switchedFields(),
    })
      .then(() => {
        if (switched) switched.reported = true;
      })
      .catch((error: unknown) => {
        // Kept for finish(), in order: outcomes not reported must not be lost silently.
        this.pending.unshift(...outcomes);
        this.gaveUp.abort(error);
      })
      .finally(() => (this.inFlight = undefined));
  }

  private async publishWithRetries<T extends object>(contract: MessageContract<T>, data: T): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await this.publish(contract, data);
        this.lastReportAt = Date.now();
        return;
      } catch (error) {
        const delayMs = this.timing.retryDelaysMs[tries - 1];
        const reason = error instanceof Error ? error.message : String(error);
        if (delayMs === undefined || this.abandoned) {
          this.logger.error({
            msg: 'export batch report not confirmed; giving up',
            ...this.ref,
            tries,
            reason,
          });
          throw new ReportNotConfirmedError(this.ref, tries, error);
        }
        this.logger.warn({
          msg: 'export batch report not confirmed; trying again',
          ...this.ref,
          tries,
          delayMs,
          reason,
        });
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
        if (this.abandoned) throw new ReportNotConfirmedError(this.ref, tries, error);
      }
    }
  }
}
