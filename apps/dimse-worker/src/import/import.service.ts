import { Inject, Injectable } from '@nestjs/common';
import {
  MAX_IMPORT_INSTANCES,
  type DimseImportBatchData,
  type DimseImportPlanData,
} from '@pacslink/contracts';
import { find } from '@pacslink/dimse';
import { EgressGuard } from '@pacslink/egress';
import { ExportBatchRunner, type BatchSender } from '@pacslink/export-batch';
import { StudyStore } from '@pacslink/store';
import { connectionOptions } from '../dimse-target';
import { DimseRetrieval } from './dimse-retrieval';
import { classifyImportFailure } from './import-failure';
import { manifestOf, MANIFEST_KEYS, onlySopClassInStudy } from './import-manifest';

/**
 * Import from a DIMSE PACS (docs/decisions/0008-import.md): the plan batch asks the PACS what the
 * study (or series) holds with one C-FIND; a retrieve batch brings its instances by C-GET or
 * C-MOVE. Both run on the export's runner (claim, reports, classification).
 */
@Injectable()
export class ImportService {
  constructor(
    private readonly runner: ExportBatchRunner,
    private readonly egress: EgressGuard,
    @Inject(StudyStore) private readonly studyStore: StudyStore,
  ) {}

  /** `stopping`: aborted at shutdown. */
  async planBatch(plan: DimseImportPlanData, stopping: AbortSignal): Promise<void> {
    await this.runner.run(plan, stopping, this.planSender(plan));
  }

  async retrieveBatch(batch: DimseImportBatchData, stopping: AbortSignal): Promise<void> {
    await this.runner.run(batch, stopping, this.retrieveSender(batch));
  }

  /**
   * Study Root C-FIND at IMAGE level with the study's UID (and the series' when asked for one):
   * Orthanc and DCMTK dcmqrscp both answer it without a SERIES level first. It stops after one
   * match more than MAX_IMPORT_INSTANCES (C-CANCEL). SOPClassUID is asked for only when the study
   * may hold more than one class: a STUDY-level C-FIND first asks SOPClassesInStudy, and when that
   * names one class every instance has it (Orthanc reads each file to answer SOPClassUID at IMAGE
   * level: 1.4 s for 2000 instances against 0.66 s without, and 0.12 s for the study's classes).
   * The plan is labelled C-GET, the command not telling which retrieve follows: pacslink_import_*
   * count it with the first method tried.
   */
  planSender(plan: DimseImportPlanData): BatchSender {
    return {
      direction: 'import',
      method: 'C-GET',
      send: async (_run, signal) => {
        const connection = connectionOptions(plan.target, this.egress);
        const studySopClass = await onlySopClassInStudy(connection, plan.studyInstanceUid, signal);
        const matches = await find(connection, {
          level: 'IMAGE',
          keys: {
            StudyInstanceUID: plan.studyInstanceUid,
            ...(plan.seriesInstanceUid === undefined ? {} : { SeriesInstanceUID: plan.seriesInstanceUid }),
          },
          returnKeys: Object.keys(MANIFEST_KEYS).filter(
            (keyword) =>
              keyword !== 'SOPInstanceUID' && (keyword !== 'SOPClassUID' || studySopClass === undefined),
          ),
          limit: MAX_IMPORT_INSTANCES + 1,
          signal,
        });
        return { manifest: manifestOf(matches, studySopClass) };
      },
      classify: classifyImportFailure,
    };
  }

  retrieveSender(batch: DimseImportBatchData): BatchSender {
    return {
      direction: 'import',
      method: batch.operation,
      send: (run, signal) =>
        new DimseRetrieval(
          batch,
          connectionOptions(batch.target, this.egress),
          this.studyStore,
          run,
          signal,
        ).retrieve(),
      classify: classifyImportFailure,
    };
  }
}
