import { Module } from '@nestjs/common';
import { ExportConsumer } from './export.consumer';
import { ExportService } from './export.service';

/** STOW-RS export; the runner and the store come from BatchRunnerModule. */
@Module({ providers: [ExportService, ExportConsumer] })
export class ExportModule {}
