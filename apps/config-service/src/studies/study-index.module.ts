import { Module } from '@nestjs/common';
import { StudiesRepository } from './studies.repository';
import { StudyIndexService } from './study-index.service';

/**
 * The study store's index, without the store's files. Other features read it through
 * StudyIndexService; the repository is exported for the studies feature's own module.
 */
@Module({
  providers: [StudiesRepository, StudyIndexService],
  exports: [StudiesRepository, StudyIndexService],
})
export class StudyIndexModule {}
