import { Module } from '@nestjs/common';
import { StudiesRepository } from './studies.repository';

/**
 * The study store's index, without the store's files: what other features may read of it
 * (transfers: whose study it is, to mask the patient in a PACS's error text).
 */
@Module({ providers: [StudiesRepository], exports: [StudiesRepository] })
export class StudyIndexModule {}
