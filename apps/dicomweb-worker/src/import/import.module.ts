import { Module } from '@nestjs/common';
import { ImportConsumer } from './import.consumer';
import { ImportService } from './import.service';

@Module({ providers: [ImportService, ImportConsumer] })
export class ImportModule {}
