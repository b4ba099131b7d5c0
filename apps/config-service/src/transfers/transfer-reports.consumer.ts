import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, ExportBatchReports } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { TransferReportsService } from './transfer-reports.service';

/** The edge: workers' claims and reports about export batches (registered before the consumer starts). */
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
  }
}
