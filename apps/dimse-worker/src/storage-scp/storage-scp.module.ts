import { type DynamicModule, Module } from '@nestjs/common';
import { StudyStore } from '@pacslink/store';
import { DimseCallersCache, SCP_AE_TITLE } from './dimse-callers.cache';
import { RefusalReporter } from './refusal-reporter';
import { STORAGE_SCP_SETTINGS, StorageScpService, type StorageScpSettings } from './storage-scp.service';

@Module({})
export class StorageScpModule {
  static forRoot(storeDir: string, settings: StorageScpSettings): DynamicModule {
    return {
      module: StorageScpModule,
      providers: [
        // One instance after another: each write takes a file made ahead (StudyStore.createAhead).
        { provide: StudyStore, useValue: new StudyStore(storeDir, { createAhead: true }) },
        { provide: STORAGE_SCP_SETTINGS, useValue: settings },
        { provide: SCP_AE_TITLE, useValue: settings.aeTitle },
        DimseCallersCache,
        RefusalReporter,
        StorageScpService,
      ],
    };
  }
}
