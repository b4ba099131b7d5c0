import { Inject, Injectable } from '@nestjs/common';
import type { DimseExportBatchData, ExportBatchFailureData } from '@pacslink/contracts';
import {
  DimseError,
  DimseErrorCode,
  isTransientDimseError,
  isUnreachableDimseError,
  store,
} from '@pacslink/dimse';
import { EgressGuard, connectionFailed } from '@pacslink/egress';
import { ExportBatchRunner } from '@pacslink/export-batch';
import { StudyStore } from '@pacslink/store';
import { connectionOptions } from '../dimse-target';

/**
 * C-STORE export (PS3.4 B.2): one association per batch, presentation contexts for every SOP class
 * and transfer syntax in it, each stored file's dataset sent as it is.
 */
@Injectable()
export class ExportService {
  constructor(
    private readonly runner: ExportBatchRunner,
    private readonly egress: EgressGuard,
    @Inject(StudyStore) private readonly studyStore: StudyStore,
  ) {}

  /** `stopping`: aborted at shutdown; the association is released after the instance in flight. */
  async exportBatch(batch: DimseExportBatchData, stopping: AbortSignal): Promise<void> {
    await this.runner.run(batch, stopping, {
      method: 'C-STORE',
      send: async ({ outcome: onOutcome }, signal) => {
        await store(
          connectionOptions(batch.target, this.egress),
          batch.instances.map((instance) => ({
            path: this.studyStore.absolutePath(instance.path),
            sopClassUid: instance.sopClassUid,
            sopInstanceUid: instance.sopInstanceUid,
            transferSyntaxUid: instance.transferSyntaxUid,
          })),
          { onOutcome, signal },
        );
      },
      classify: classifyStoreFailure,
    });
  }
}

export function classifyStoreFailure(error: unknown): ExportBatchFailureData {
  if (error instanceof DimseError) {
    const reason =
      error.code === DimseErrorCode.EGRESS_REFUSED ? connectionFailed(error.message) : error.message;
    return {
      transient: isTransientDimseError(error),
      reason,
      code: error.code,
      unreachable: isUnreachableDimseError(error),
    };
  }
  // Not a protocol answer (e.g. the study store is not mounted): worth another try, bounded by attempts.
  return { transient: true, reason: error instanceof Error ? error.message : String(error) };
}
