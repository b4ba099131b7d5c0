import { type DynamicModule, Module } from '@nestjs/common';
import { ExportBatchRunner } from '@pacslink/export-batch';
import { StudyStore } from '@pacslink/store';

/**
 * What export and import share: the one batch runner of the process (its metrics register once
 * per registry: a second instance would fail the boot) and the study store they read and write.
 */
@Module({})
export class BatchRunnerModule {
  static forRoot(storeDir: string): DynamicModule {
    return {
      module: BatchRunnerModule,
      global: true,
      providers: [{ provide: StudyStore, useValue: new StudyStore(storeDir) }, ExportBatchRunner],
      exports: [StudyStore, ExportBatchRunner],
    };
  }
}
