import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, StorageScpReports } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { ReceivedStudiesService } from './received-studies.service';

/** The edge: what dimse-worker's Storage SCP stored in an association (registered before the consumer starts). */
@Injectable()
export class ReceivedStudiesConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: ReceivedStudiesService,
  ) {}

  onModuleInit(): void {
    this.consumer.on(ConsumerQueues.ConfigServiceReports, StorageScpReports.Received, async (report) => {
      await this.service.received(report);
    });
  }
}
