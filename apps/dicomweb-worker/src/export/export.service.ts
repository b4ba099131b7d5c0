import { Inject, Injectable } from '@nestjs/common';
import {
  MAX_EXPORT_BATCH_INSTANCES,
  type DicomwebExportBatchData,
  type ExportBatchFailureData,
} from '@pacslink/contracts';
import {
  DicomwebClient,
  DicomwebError,
  DicomwebErrorCode,
  isUnreachableDicomwebError,
} from '@pacslink/dicomweb';
import { connectionFailed } from '@pacslink/egress';
import { ExportBatchRunner } from '@pacslink/export-batch';
import { SecretCipher, SecretDecryptionError, UnknownSecretKeyError } from '@pacslink/secrets';
import { StudyStore } from '@pacslink/store';
import { UnusableAuthError, unsealAuth } from '../credentials/sealed-auth';

/**
 * STOW-RS export (PS3.18 10.5): multipart/related requests batched by count and bytes, or one
 * application/dicom POST per instance, streamed from the study store.
 */
@Injectable()
export class ExportService {
  constructor(
    private readonly runner: ExportBatchRunner,
    private readonly cipher: SecretCipher,
    private readonly client: DicomwebClient,
    @Inject(StudyStore) private readonly studyStore: StudyStore,
  ) {}

  /** `stopping`: aborted at shutdown; the batch stops after the STOW-RS request in flight. */
  async exportBatch(batch: DicomwebExportBatchData, stopping: AbortSignal): Promise<void> {
    const { target } = batch;
    await this.runner.run(batch, stopping, {
      method: 'STOW-RS',
      send: async ({ outcome: onOutcome }, signal) => {
        await this.client.stow(
          {
            url: target.url,
            auth: unsealAuth(this.cipher, target),
            pacsAeTitle: target.pacsAeTitle,
            sourceAeTitle: target.sourceAeTitle,
            timeoutMs: target.timeoutMs,
          },
          batch.instances.map((instance) => ({
            path: this.studyStore.absolutePath(instance.path),
            sopInstanceUid: instance.sopInstanceUid,
            sopClassUid: instance.sopClassUid,
            sizeBytes: instance.sizeBytes,
          })),
          {
            multipart: batch.multipart,
            studyInstanceUid: batch.studyInstanceUid,
            // A batch in as few requests as 64 MiB allows: each request is a round trip, and the
            // batch is already the unit of retry.
            maxInstancesPerRequest: MAX_EXPORT_BATCH_INSTANCES,
            onOutcome,
            signal,
          },
        );
      },
      classify: classifyStowFailure,
    });
  }
}

export function classifyStowFailure(error: unknown): ExportBatchFailureData {
  if (error instanceof DicomwebError) {
    const reason =
      error.code === DicomwebErrorCode.EgressRefused ? connectionFailed(error.message) : error.message;
    return {
      transient: error.disposition.retryable,
      reason,
      code: error.code,
      unreachable: isUnreachableDicomwebError(error),
    };
  }
  if (error instanceof UnusableAuthError) return { transient: false, reason: error.message };
  // A credential sealed for another destination, or not ours, stays so however often it is tried;
  // only a key this worker lacks (a key rollout under way) may be cured by another try.
  if (error instanceof SecretDecryptionError && !(error instanceof UnknownSecretKeyError))
    return { transient: false, reason: `the stored credential cannot be used: ${error.message}` };
  return { transient: true, reason: error instanceof Error ? error.message : String(error) };
}
