import { Injectable, Logger } from '@nestjs/common';
import {
  ExportBatchReports,
  type ExportBatchClaim,
  type ExportBatchData,
  type ExportBatchFailureData,
  type InstanceOutcomeData,
} from '@pacslink/contracts';
import { ConfirmedPublisher, RpcClient, createEnvelope } from '@pacslink/messaging';
import { OutcomeReporter, type PublishReport } from './outcome-reporter';

/** How long a worker waits for config-service to answer a claim before the delivery is retried. */
const CLAIM_TIMEOUT_MS = 15_000;

export interface BatchSender {
  /** Sends the batch's instances; calls onOutcome as the PACS answers each one. */
  send(onOutcome: (outcome: InstanceOutcomeData) => void): Promise<unknown>;
  /** Why the send failed, in words, and whether a later attempt can succeed. */
  classify(error: unknown): ExportBatchFailureData;
}

/**
 * Runs one export batch for a worker: claim, send with outcome reports, report the end. Only a
 * failure to talk to config-service (claim unanswered, report not confirmed) escapes as an error,
 * so the delivery is redelivered; a PACS failure is reported, classified, and the delivery acked.
 */
@Injectable()
export class ExportBatchRunner {
  private readonly logger = new Logger(ExportBatchRunner.name);

  constructor(
    private readonly rpc: RpcClient,
    private readonly publisher: ConfirmedPublisher,
  ) {}

  async run(batch: ExportBatchData, sender: BatchSender): Promise<void> {
    const ref = { transferId: batch.transferId, batchId: batch.batchId, attempt: batch.attempt };
    const claim = await this.rpc.request<typeof ref, ExportBatchClaim>(
      ExportBatchReports.Claim,
      ref,
      CLAIM_TIMEOUT_MS,
    );
    if (!claim.go) {
      this.logger.log({ msg: 'export batch dropped', ...ref, reason: claim.reason });
      return;
    }
    const reporter = new OutcomeReporter(ref, this.publishReport);
    let failure: ExportBatchFailureData | undefined;
    try {
      await sender.send((outcome) => reporter.add(outcome));
    } catch (error) {
      failure = sender.classify(error);
      this.logger.warn({ msg: 'export batch stopped', ...ref, ...failure });
    }
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
