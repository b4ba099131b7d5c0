import { Module } from '@nestjs/common';
import { EventStream } from './event-stream';
import { EventsController } from './events.controller';

@Module({
  controllers: [EventsController],
  providers: [EventStream],
})
export class EventsModule {}
