import { Injectable, type OnModuleInit } from '@nestjs/common';
import {
  ConsumerQueues,
  ExportBatchCommands,
  ExportBatchReports,
  type ExportBatchRef,
} from '@pacslink/contracts';
import { MessageConsumer, type MessageContext } from '@pacslink/messaging';
import { TransferReportsService } from './transfer-reports.service';

/**
 * The edge: workers' claims and reports about export batches, and the batches a worker
 * dead-lettered (registered before the consumer starts).
 */
@Injectable()
export class TransferReportsConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: TransferReportsService,
  ) {}

  onModuleInit(): void {
    const queue = ConsumerQueues.ConfigServiceReports;
    this.consumer.answer(queue, ExportBatchReports.Claim, (ref) => this.service.claim(ref));
    this.consumer.on(queue, ExportBatchReports.Progress, (report) => this.service.progress(report));
    this.consumer.on(queue, ExportBatchReports.Finished, (report) => this.service.finished(report));
    const deadLetters = ConsumerQueues.ConfigServiceDeadLetters;
    const deadLettered = (batch: ExportBatchRef, { deadLetter }: MessageContext) =>
      this.service.deadLettered(batch, deadLetter?.reason ?? 'no reason recorded');
    this.consumer.on(deadLetters, ExportBatchCommands.Dimse, deadLettered);
    this.consumer.on(deadLetters, ExportBatchCommands.Dicomweb, deadLettered);
  }
}
