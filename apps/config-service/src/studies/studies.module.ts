import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LocalAeTitlesModule } from '../local-ae-titles/local-ae-titles.module';
import { ReceivedStudiesConsumer } from './received-studies.consumer';
import { ReceivedStudiesService } from './received-studies.service';
import { StoredInstance } from './stored-instance.entity';
import { RETENTION_POLICY, StoreRetention } from './store-retention';
import type { RetentionPolicy } from './retention-policy';
import { StoreSweeper } from './store-sweeper';
import { StoredStudy } from './stored-study.entity';
import { StudiesController } from './studies.controller';
import { StudiesService } from './studies.service';
import { StudyIndexModule } from './study-index.module';
import { StudyStoreModule } from './study-store.module';
import { UPLOAD_LIMITS, type UploadLimits } from './upload-limits';

export interface StudiesOptions {
  /** STORE_DIR */
  storeDir: string;
  uploadLimits: UploadLimits;
  /** STORE_RETENTION_DAYS */
  retention: RetentionPolicy;
}

/**
 * The study store's API and index, on the StudyStore of STORE_DIR (StudyStoreModule, global).
 * Exports the entities' repositories (TypeOrmModule), for features that read stored instances.
 */
@Module({})
export class StudiesModule {
  static forRoot({ storeDir, uploadLimits, retention }: StudiesOptions): DynamicModule {
    const entities = TypeOrmModule.forFeature([StoredStudy, StoredInstance]);
    return {
      module: StudiesModule,
      imports: [entities, StudyStoreModule.forRoot(storeDir), StudyIndexModule, LocalAeTitlesModule],
      controllers: [StudiesController],
      providers: [
        { provide: UPLOAD_LIMITS, useValue: uploadLimits },
        { provide: RETENTION_POLICY, useValue: retention },
        StudiesService,
        StoreSweeper,
        StoreRetention,
        ReceivedStudiesService,
        ReceivedStudiesConsumer,
      ],
      exports: [entities],
    };
  }
}
