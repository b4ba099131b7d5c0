import { Module } from '@nestjs/common';
import { RetrievedInstancesHub } from './retrieved-instances';
import { StudiesRepository } from './studies.repository';
import { StudyFilesIndexer } from './study-files-indexer';
import { StudyIndexService } from './study-index.service';

/**
 * The study store's index. Other features read it through StudyIndexService, index files a worker
 * stored with StudyFilesIndexer (the StudyStore comes from the global StudyStoreModule), and hear
 * of C-MOVE arrivals through RetrievedInstancesHub; the repository is exported for the studies
 * feature's own module.
 */
@Module({
  providers: [StudiesRepository, StudyIndexService, StudyFilesIndexer, RetrievedInstancesHub],
  exports: [StudiesRepository, StudyIndexService, StudyFilesIndexer, RetrievedInstancesHub],
})
export class StudyIndexModule {}
