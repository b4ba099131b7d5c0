import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import { Counter, Histogram, type Registry } from 'prom-client';
import {
  type ExportBatchFailureData,
  type ExportBatchRef,
  type ImportInstanceData,
  type InstanceOutcomeData,
  type SubOperationCountsData,
  type TransferDirection,
  type TransferMethod,
} from '@pacslink/contracts';
import { elidePeerText } from '@pacslink/dicom';
import { ConfirmedPublisher, RpcClient, createEnvelope } from '@pacslink/messaging';
import { METRICS_REGISTRY } from '@pacslink/platform';
import { AssociationFailureCounter } from './association-failures';
import { BatchClaim } from './batch-claim';
import { inBatchSpan, recordBatchResult } from './batch-span';
import { eitherSignal } from './either-signal';
import { ReportNotConfirmedError, WorkerStoppingError } from './export-batch.errors';
import { OutcomeReporter, type PublishReport } from './outcome-reporter';

/** The transient failure a batch stopped by a shutdown is reported with: another worker goes on. */
export const SHUTTING_DOWN_REASON = 'worker shutting down';

/** What a sender tells the runner while it works. */
export interface BatchRunControl {
  /**
   * Export: the PACS answered this instance. Import: this instance is stored (or failed).
   * `bytes`: its size, when the batch did not say (import).
   */
  readonly outcome: (outcome: InstanceOutcomeData, bytes?: number) => void;
  /** The run goes on with another method (C-GET gave way to C-MOVE): reported at once, with why. */
  readonly fallback: (method: TransferMethod, reason: string) => void;
}

/** What a run found out besides per-instance outcomes: it travels on the finished report. */
export interface BatchRunResult {
  /** An import plan: every instance the PACS holds of what was asked for. */
  manifest?: ImportInstanceData[];
  /** A C-GET / C-MOVE: the PACS's final sub-operation counts. */
  subOperations?: SubOperationCountsData;
}

/** A batch as the runner sees it: which attempt, and the sizes of its instances when known. */
export interface RunnableBatch extends ExportBatchRef {
  instances?: readonly { sopInstanceUid: string; sizeBytes?: number }[];
  /** Labels pacslink_association_failures_total. */
  pacsConfigId?: string;
}

export interface BatchSender {
  /** Labels the worker's metrics; default export. */
  direction?: TransferDirection;
  /** Labels the worker's metrics. */
  method: TransferMethod;
  /**
   * Does the batch's work (sends, plans or retrieves); reports each instance through `run` as it
   * goes. Once `signal` is aborted it stops at the next instance boundary (after the instance or
   * request in flight), ends the association with A-RELEASE, and rejects.
   */
  send(run: BatchRunControl, signal: AbortSignal): Promise<BatchRunResult | void>;
  /** Why the work failed, in words, and whether a later attempt can succeed. */
  classify(error: unknown): ExportBatchFailureData;
}

/**
 * Runs one export batch for a worker: claim, send with outcome reports, report the end. Only a
 * failure to talk to config-service (claim unanswered, report not confirmed) escapes as an error,
 * so the delivery is redelivered; a PACS failure is reported, classified, and the delivery acked.
 * A worker that cannot report stops sending; a worker that shuts down stops at the next instance,
 * reports what was done (transient: SHUTTING_DOWN_REASON) and acks, so config-service sends the
 * rest through another worker (docs/decisions/0006-transfers.md, "Shutdown and reporting").
 */
@Injectable()
export class ExportBatchRunner {
  private readonly logger = new Logger(ExportBatchRunner.name);
  private readonly metrics: Record<TransferDirection, RunMetrics>;
  private readonly claims: BatchClaim;
  private readonly associationFailures: AssociationFailureCounter;

  constructor(
    rpc: RpcClient,
    private readonly publisher: ConfirmedPublisher,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.claims = new BatchClaim(rpc);
    this.metrics = { export: runMetrics(registry, 'export'), import: runMetrics(registry, 'import') };
    this.associationFailures = new AssociationFailureCounter(registry);
  }

  /** `stopping`: the consumer's signal (MessageContext), aborted when the worker shuts down. */
  run(batch: RunnableBatch, stopping: AbortSignal, sender: BatchSender): Promise<void> {
    return inBatchSpan(batch, sender.direction ?? 'export', sender.method, (span) =>
      this.runInSpan(batch, stopping, sender, span),
    );
  }

  private async runInSpan(
    batch: RunnableBatch,
    stopping: AbortSignal,
    sender: BatchSender,
    span: Span,
  ): Promise<void> {
    const ref = { transferId: batch.transferId, batchId: batch.batchId, attempt: batch.attempt };
    // Not claimed yet: the delivery goes back to the queue as it came, for another replica.
    if (stopping.aborted) throw new WorkerStoppingError(ref);
    // This run of the attempt: a redelivery of the same command is another run, which waits while
    // this one holds the attempt (never two senders).
    const run = { ...ref, claimant: randomUUID() };
    const claim = await this.claims.settle(run, stopping);
    if (!claim.go) {
      this.logger.log({ msg: 'export batch dropped', ...ref, reason: claim.reason });
      return;
    }
    const reporter = new OutcomeReporter(run, this.publishReport);
    const stop = eitherSignal(stopping, reporter.signal);
    const sizes = new Map((batch.instances ?? []).map((i) => [i.sopInstanceUid, i.sizeBytes ?? 0]));
    const metrics = this.metrics[sender.direction ?? 'export'];
    let method = sender.method;
    const timer = metrics.batches.startTimer({ method });
    let failure: ExportBatchFailureData | undefined;
    let result: BatchRunResult | void = undefined;
    try {
      result = await sender.send(
        {
          outcome: (outcome, bytes) => {
            metrics.instances.inc({ method, outcome: outcome.status });
            if (outcome.status !== 'failure')
              metrics.bytes.inc({ method }, bytes ?? sizes.get(outcome.sopInstanceUid) ?? 0);
            reporter.add(outcome);
          },
          fallback: (to, reason) => {
            method = to;
            reporter.fallback(to, reason);
          },
        },
        stop.signal,
      );
    } catch (error) {
      if (reporter.signal.aborted) {
        // Nothing is acked: the delivery is redelivered, claimed again (same attempt) and resent.
        reporter.abandon();
        throw reporter.signal.reason as ReportNotConfirmedError;
      }
      // The sender's own reading of a stop (e.g. DIMSE CANCELLED) would be permanent; this is not.
      failure = stopping.aborted ? { transient: true, reason: SHUTTING_DOWN_REASON } : sender.classify(error);
      this.associationFailures.record(batch.pacsConfigId, failure);
      // A worker is not told whose study it sends, so it cannot mask the patient's name in what
      // the PACS wrote: the PACS's words stay out of its log. config-service masks and logs them.
      this.logger.warn({
        msg: `${sender.direction ?? 'export'} batch stopped`,
        ...ref,
        transient: failure.transient,
        reason: elidePeerText(failure.reason),
      });
    } finally {
      stop.dispose();
    }
    const outcome = failure ? (failure.transient ? 'transient' : 'permanent') : 'completed';
    timer({ result: outcome });
    recordBatchResult(span, outcome);
    // One line per batch run: with its trace_id, the way from a log search to the batch's trace.
    this.logger.log({ msg: `${sender.direction ?? 'export'} batch ran`, ...ref, result: outcome });
    try {
      await reporter.finish(failure, result ?? undefined);
    } catch (error) {
      reporter.abandon();
      throw error;
    }
  }

  private readonly publishReport: PublishReport = async (contract, data) => {
    await this.publisher.publish(contract.exchange, createEnvelope(contract, data));
  };
}

interface RunMetrics {
  instances: Counter<'method' | 'outcome'>;
  bytes: Counter<'method'>;
  batches: Histogram<'method' | 'result'>;
}

/** pacslink_export_* and pacslink_import_*: one set per direction, as the dashboards read them. */
function runMetrics(registry: Registry, direction: TransferDirection): RunMetrics {
  const what =
    direction === 'export'
      ? 'sent to a PACS, by what the PACS answered'
      : 'retrieved from a PACS, by outcome';
  return {
    instances: new Counter({
      name: `pacslink_${direction}_instances_total`,
      help: `Instances ${what} (success, warning, failure)`,
      labelNames: ['method', 'outcome'],
      registers: [registry],
    }),
    bytes: new Counter({
      name: `pacslink_${direction}_bytes_total`,
      help:
        direction === 'export' ? 'Bytes of the instances a PACS accepted' : 'Bytes of the instances stored',
      labelNames: ['method'],
      registers: [registry],
    }),
    batches: new Histogram({
      name: `pacslink_${direction}_batch_duration_seconds`,
      help: `Time to run one ${direction} batch, by how it ended (completed, transient, permanent)`,
      labelNames: ['method', 'result'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers: [registry],
    }),
  };
}
