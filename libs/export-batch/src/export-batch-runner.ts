import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';
import {
  type ExportBatchData,
  type ExportBatchFailureData,
  type InstanceOutcomeData,
  type TransferMethod,
} from '@pacslink/contracts';
import { elidePeerText } from '@pacslink/dicom';
import { ConfirmedPublisher, RpcClient, createEnvelope } from '@pacslink/messaging';
import { METRICS_REGISTRY } from '@pacslink/platform';
import { BatchClaim } from './batch-claim';
import { eitherSignal } from './either-signal';
import { ReportNotConfirmedError, WorkerStoppingError } from './export-batch.errors';
import { OutcomeReporter, type PublishReport } from './outcome-reporter';

/** The transient failure a batch stopped by a shutdown is reported with: another worker goes on. */
export const SHUTTING_DOWN_REASON = 'worker shutting down';

export interface BatchSender {
  /** Labels the worker's metrics. */
  method: TransferMethod;
  /**
   * Sends the batch's instances; calls onOutcome as the PACS answers each one. Once `signal` is
   * aborted it stops at the next instance boundary (after the instance or STOW-RS request in
   * flight), ends the association with A-RELEASE, and rejects.
   */
  send(onOutcome: (outcome: InstanceOutcomeData) => void, signal: AbortSignal): Promise<unknown>;
  /** Why the send failed, in words, and whether a later attempt can succeed. */
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
  private readonly instances: Counter<'method' | 'outcome'>;
  private readonly bytes: Counter<'method'>;
  private readonly batches: Histogram<'method' | 'result'>;
  private readonly claims: BatchClaim;

  constructor(
    rpc: RpcClient,
    private readonly publisher: ConfirmedPublisher,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.claims = new BatchClaim(rpc);
    this.instances = new Counter({
      name: 'pacslink_export_instances_total',
      help: 'Instances sent to a PACS, by what the PACS answered (success, warning, failure)',
      labelNames: ['method', 'outcome'],
      registers: [registry],
    });
    this.bytes = new Counter({
      name: 'pacslink_export_bytes_total',
      help: 'Bytes of the instances a PACS accepted',
      labelNames: ['method'],
      registers: [registry],
    });
    this.batches = new Histogram({
      name: 'pacslink_export_batch_duration_seconds',
      help: 'Time to send one export batch, by how it ended (completed, transient, permanent)',
      labelNames: ['method', 'result'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers: [registry],
    });
  }

  /** `stopping`: the consumer's signal (MessageContext), aborted when the worker shuts down. */
  async run(batch: ExportBatchData, stopping: AbortSignal, sender: BatchSender): Promise<void> {
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
    const sizes = new Map(batch.instances.map((instance) => [instance.sopInstanceUid, instance.sizeBytes]));
    const timer = this.batches.startTimer({ method: sender.method });
    let failure: ExportBatchFailureData | undefined;
    try {
      await sender.send((outcome) => {
        this.instances.inc({ method: sender.method, outcome: outcome.status });
        if (outcome.status !== 'failure')
          this.bytes.inc({ method: sender.method }, sizes.get(outcome.sopInstanceUid) ?? 0);
        reporter.add(outcome);
      }, stop.signal);
    } catch (error) {
      if (reporter.signal.aborted) {
        // Nothing is acked: the delivery is redelivered, claimed again (same attempt) and resent.
        reporter.abandon();
        throw reporter.signal.reason as ReportNotConfirmedError;
      }
      // The sender's own reading of a stop (e.g. DIMSE CANCELLED) would be permanent; this is not.
      failure = stopping.aborted ? { transient: true, reason: SHUTTING_DOWN_REASON } : sender.classify(error);
      // A worker is not told whose study it sends, so it cannot mask the patient's name in what
      // the PACS wrote: the PACS's words stay out of its log. config-service masks and logs them.
      this.logger.warn({
        msg: 'export batch stopped',
        ...ref,
        transient: failure.transient,
        reason: elidePeerText(failure.reason),
      });
    } finally {
      stop.dispose();
    }
    timer({ result: failure ? (failure.transient ? 'transient' : 'permanent') : 'completed' });
    try {
      await reporter.finish(failure);
    } catch (error) {
      reporter.abandon();
      throw error;
    }
  }

  private readonly publishReport: PublishReport = async (contract, data) => {
    await this.publisher.publish(contract.exchange, createEnvelope(contract, data));
  };
}
