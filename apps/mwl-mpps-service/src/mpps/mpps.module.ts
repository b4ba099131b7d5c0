import { Module } from '@nestjs/common';
import { WorklistModule } from '../worklist/worklist.module';
import { AutoCompletionConsumer } from './auto-completion.consumer';
import { AutoCompletionService } from './auto-completion.service';
import { MppsConsumer } from './mpps.consumer';
import { MppsService } from './mpps.service';

@Module({
  imports: [WorklistModule],
  providers: [MppsService, MppsConsumer, AutoCompletionService, AutoCompletionConsumer],
  exports: [MppsService],
})
export class MppsModule {}
