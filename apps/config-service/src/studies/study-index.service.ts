import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { PatientIdentity } from '@pacslink/dicom';
import { StudiesRepository, type InstanceFileRow } from './studies.repository';

export type { InstanceFileRow };

/**
 * What other features may read of the study store's index, through the studies feature rather
 * than its tables (transfers: the instances a transfer sends, and whose study it is).
 */
@Injectable()
export class StudyIndexService {
  constructor(private readonly repository: StudiesRepository) {}

  /**
   * The instances of a study (or of one of its series) in sending order, locked FOR SHARE in
   * `manager`'s transaction (StudiesRepository.instancesOf).
   */
  instancesOf(
    manager: EntityManager,
    studyInstanceUid: string,
    seriesInstanceUid?: string,
  ): Promise<InstanceFileRow[]> {
    return this.repository.instancesOf(manager, studyInstanceUid, seriesInstanceUid);
  }

  /** These instances of a study as the index holds them now (StudiesRepository.filesOf). */
  filesOf(
    manager: EntityManager,
    studyInstanceUid: string,
    sopInstanceUids: readonly string[],
  ): Promise<Map<string, InstanceFileRow>> {
    return this.repository.filesOf(manager, studyInstanceUid, sopInstanceUids);
  }

  /**
   * Which of these instances of a study the index holds (an import leaves them out of its
   * retrieve batches), locked FOR SHARE like filesOf.
   */
  async heldOf(
    manager: EntityManager,
    studyInstanceUid: string,
    sopInstanceUids: readonly string[],
  ): Promise<Set<string>> {
    return new Set((await this.repository.filesOf(manager, studyInstanceUid, sopInstanceUids)).keys());
  }

  /** The study's Accession Number, null when it has none or the store holds no such study. */
  async accessionNumberOf(studyInstanceUid: string): Promise<string | null> {
    const found = await this.repository.find(studyInstanceUid);
    return found?.study.accessionNumber || null;
  }

  /** The study's patient, for masking it in text a PACS wrote about the study. */
  patientOf(studyInstanceUid: string): Promise<PatientIdentity> {
    return this.repository.patientOf(studyInstanceUid);
  }
}
