import { type DynamicModule, Module } from '@nestjs/common';
import { StudyStore } from '@pacslink/store';

/**
 * The one StudyStore on STORE_DIR of the process, global: the studies feature writes and reads it,
 * and the index's file reader (StudyFilesIndexer) serves transfers' imports with it too.
 */
@Module({})
export class StudyStoreModule {
  static forRoot(storeDir: string): DynamicModule {
    return {
      global: true,
      module: StudyStoreModule,
      providers: [{ provide: StudyStore, useValue: new StudyStore(storeDir) }],
      exports: [StudyStore],
    };
  }
}
