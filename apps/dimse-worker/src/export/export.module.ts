import { type DynamicModule, Module } from '@nestjs/common';
import { StudyStore } from '@pacslink/store';
import { BatchRunnerModule } from '../batch-runner.module';
import { ExportConsumer } from './export.consumer';
import { ExportService } from './export.service';

@Module({})
export class ExportModule {
  static forRoot(storeDir: string): DynamicModule {
    return {
      module: ExportModule,
      imports: [BatchRunnerModule],
      providers: [{ provide: StudyStore, useValue: new StudyStore(storeDir) }, ExportService, ExportConsumer],
    };
  }
}
