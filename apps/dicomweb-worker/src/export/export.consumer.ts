import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, ExportBatchCommands } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { ExportService } from './export.service';

/** The edge: `dicomweb.export-batch` commands (registered before the consumer starts). */
@Injectable()
export class ExportConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: ExportService,
  ) {}

  onModuleInit(): void {
    this.consumer.on(
      ConsumerQueues.DicomwebWorkerCommands,
      ExportBatchCommands.Dicomweb,
      (batch, { signal }) => this.service.exportBatch(batch, signal),
    );
  }
}
