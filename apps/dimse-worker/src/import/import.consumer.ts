import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, ImportBatchCommands } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { ImportService } from './import.service';

/** The edge: `dimse.import-plan` and `dimse.import-batch` commands (registered before the consumer starts). */
@Injectable()
export class ImportConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: ImportService,
  ) {}

  onModuleInit(): void {
    this.consumer.on(ConsumerQueues.DimseWorkerCommands, ImportBatchCommands.DimsePlan, (plan, { signal }) =>
      this.service.planBatch(plan, signal),
    );
    this.consumer.on(ConsumerQueues.DimseWorkerCommands, ImportBatchCommands.Dimse, (batch, { signal }) =>
      this.service.retrieveBatch(batch, signal),
    );
  }
}
