import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, MppsRequests } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { MppsService } from './mpps.service';

/** The edge: answers `mpps.start`, `mpps.complete` and `mpps.discontinue` (config-service's routes). */
@Injectable()
export class MppsConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly mpps: MppsService,
  ) {}

  onModuleInit(): void {
    this.consumer.answer(ConsumerQueues.MwlMppsCommands, MppsRequests.Start, (data) => this.mpps.start(data));
    this.consumer.answer(ConsumerQueues.MwlMppsCommands, MppsRequests.Complete, (data) =>
      this.mpps.complete(data),
    );
    this.consumer.answer(ConsumerQueues.MwlMppsCommands, MppsRequests.Discontinue, (data) =>
      this.mpps.discontinue(data),
    );
  }
}
