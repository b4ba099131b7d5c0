import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  ConsumerQueues,
  ExportBatchCommands,
  ExportBatchReports,
  ImportBatchCommands,
  type ExportBatchRef,
} from '@pacslink/contracts';
import { MessageConsumer, type MessageContext } from '@pacslink/messaging';
import { waitForDatabase } from '@pacslink/persistence';
import { TransferReportsService } from './transfer-reports.service';

/**
 * How long one delivery of a report or dead letter waits, held, for the database to come back.
 * Rejected back to the queue instead, a report would spend the queue's whole delivery limit in a
 * few seconds of outage and be dead-lettered, lost (issue 10, defect 9). Well inside RabbitMQ's
 * consumer_timeout (30 min); at the bound the delivery goes back, and five more deliveries make
 * half an hour of patience. Claims are not held: the worker asks again (ExportBatchRunner).
 */
const DATABASE_WAIT_MS = 5 * 60_000;
/** One warning per this many waits of one delivery (the first always): an outage is one story. */
const WARN_EVERY_WAITS = 10;

/**
 * The edge: workers' claims and reports about transfer batches (export and import), and the batches a worker
 * dead-lettered (registered before the consumer starts).
 */
@Injectable()
export class TransferReportsConsumer implements OnModuleInit {
  private readonly logger = new Logger(TransferReportsConsumer.name);

  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: TransferReportsService,
  ) {}

  onModuleInit(): void {
    const queue = ConsumerQueues.ConfigServiceReports;
    this.consumer.answer(queue, ExportBatchReports.Claim, (run, context) =>
      this.service.claim(run, context.replyAddress),
    );
    this.consumer.on(queue, ExportBatchReports.Progress, (report, context) =>
      this.waitingForDatabase(report, context, () => this.service.progress(report)),
    );
    this.consumer.on(queue, ExportBatchReports.Finished, (report, context) =>
      this.waitingForDatabase(report, context, () => this.service.finished(report)),
    );
    const deadLetters = ConsumerQueues.ConfigServiceDeadLetters;
    const deadLettered = (batch: ExportBatchRef, context: MessageContext) =>
      this.waitingForDatabase(batch, context, () =>
        this.service.deadLettered(
          batch,
          context.deadLetter ?? { reason: 'no reason recorded', refused: false },
        ),
      );
    this.consumer.on(deadLetters, ExportBatchCommands.Dimse, deadLettered);
    this.consumer.on(deadLetters, ExportBatchCommands.Dicomweb, deadLettered);
    // An import's plan and retrieve batches are batches like any other (ADR 0008).
    for (const contract of Object.values(ImportBatchCommands))
      this.consumer.on(deadLetters, contract, deadLettered);
  }

  /** A wait ends when the service stops (context.signal): the delivery goes back for another replica. */
  private waitingForDatabase(ref: ExportBatchRef, context: MessageContext, work: () => Promise<void>) {
    return waitForDatabase(work, {
      boundMs: DATABASE_WAIT_MS,
      signal: context.signal,
      onWait: (error, retries, delayMs) => {
        if (retries % WARN_EVERY_WAITS !== 1) return;
        this.logger.warn({
          msg: 'database unavailable; holding the message and trying again',
          type: context.envelope.type,
          messageId: context.envelope.eventId,
          transferId: ref.transferId,
          batchId: ref.batchId,
          retries,
          delayMs,
          reason: error instanceof Error ? error.message : String(error),
        });
      },
    });
  }
}
