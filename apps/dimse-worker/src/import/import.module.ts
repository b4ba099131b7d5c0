import { type DynamicModule, Module } from '@nestjs/common';
import { StudyStore } from '@pacslink/store';
import { BatchRunnerModule } from '../batch-runner.module';
import { ImportConsumer } from './import.consumer';
import { ImportService } from './import.service';

@Module({})
export class ImportModule {
  static forRoot(storeDir: string): DynamicModule {
    return {
      module: ImportModule,
      imports: [BatchRunnerModule],
      providers: [{ provide: StudyStore, useValue: new StudyStore(storeDir) }, ImportService, ImportConsumer],
    };
  }
}
