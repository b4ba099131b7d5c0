import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, ImportBatchCommands } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { ImportService } from './import.service';

/** The edge: `dicomweb.import-plan` and `dicomweb.import-batch` (registered before the consumer starts). */
@Injectable()
export class ImportConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: ImportService,
  ) {}

  onModuleInit(): void {
    this.consumer.on(
      ConsumerQueues.DicomwebWorkerCommands,
      ImportBatchCommands.DicomwebPlan,
      (batch, { signal }) => this.service.plan(batch, signal),
    );
    this.consumer.on(
      ConsumerQueues.DicomwebWorkerCommands,
      ImportBatchCommands.Dicomweb,
      (batch, { signal }) => this.service.retrieve(batch, signal),
    );
  }
}
