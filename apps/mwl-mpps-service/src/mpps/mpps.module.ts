import { Module } from '@nestjs/common';
import { WorklistModule } from '../worklist/worklist.module';
import { MppsConsumer } from './mpps.consumer';
import { MppsService } from './mpps.service';

@Module({ imports: [WorklistModule], providers: [MppsService, MppsConsumer], exports: [MppsService] })
export class MppsModule {}
