import { type DynamicModule, Module } from '@nestjs/common';
import { ExportBatchRunner } from '@pacslink/export-batch';
import { StudyStore } from '@pacslink/store';
import { ExportConsumer } from './export.consumer';
import { ExportService } from './export.service';

@Module({})
export class ExportModule {
  static forRoot(storeDir: string): DynamicModule {
    return {
      module: ExportModule,
      providers: [
        { provide: StudyStore, useValue: new StudyStore(storeDir) },
        ExportBatchRunner,
        ExportService,
        ExportConsumer,
      ],
    };
  }
}
