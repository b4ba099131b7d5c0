import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  DicomwebImportBatchData,
  DicomwebImportPlanData,
  DicomwebTargetData,
  ExportBatchFailureData,
} from '@pacslink/contracts';
import { DicomwebClient, type DicomwebEndpoint } from '@pacslink/dicomweb';
import { ExportBatchRunner } from '@pacslink/export-batch';
import { SecretCipher } from '@pacslink/secrets';
import { STORABLE_TRANSFER_SYNTAXES, StudyStore } from '@pacslink/store';
import { unsealAuth } from '../credentials/sealed-auth';
import { classifyStowFailure } from '../export/export.service';
import { retrieveBatch } from './batch-retrieval';
import { ImportPlanError, planImport } from './import-plan';

/**
 * DICOMweb import (docs/decisions/0008-import.md): the plan batch lists the study by QIDO-RS, the
 * retrieve batches bring it by WADO-RS into the study store, on the export's batch runner.
 */
@Injectable()
export class ImportService {
  private readonly logger = new Logger(ImportService.name);

  constructor(
    private readonly runner: ExportBatchRunner,
    private readonly cipher: SecretCipher,
    private readonly client: DicomwebClient,
    @Inject(StudyStore) private readonly studyStore: StudyStore,
  ) {}

  /** `stopping`: aborted at shutdown; the plan stops after the QIDO-RS request in flight. */
  async plan(batch: DicomwebImportPlanData, stopping: AbortSignal): Promise<void> {
    await this.runner.run(batch, stopping, {
      direction: 'import',
      method: 'WADO-RS',
      send: async (_run, signal) => {
        const endpoint = this.endpoint(batch.target);
        const manifest = await planImport(
          (query, querySignal) => this.client.qido(endpoint, query, { signal: querySignal }),
          batch,
          signal,
        );
        return { manifest };
      },
      classify: classifyImportFailure,
    });
  }

  /** `stopping`: aborted at shutdown; the batch stops after the instances being stored. */
  async retrieve(batch: DicomwebImportBatchData, stopping: AbortSignal): Promise<void> {
    await this.runner.run(batch, stopping, {
      direction: 'import',
      method: 'WADO-RS',
      send: async (run, signal) => {
        const endpoint = this.endpoint(batch.target);
        await retrieveBatch(
          {
            retrieve: (request, handle) => this.client.retrieveResource(endpoint, request, handle),
            write: (part) => this.studyStore.write(part),
            note: (msg, facts) =>
              this.logger.warn({ msg, transferId: batch.transferId, batchId: batch.batchId, ...facts }),
            timeoutMs: endpoint.timeoutMs,
            acceptTransferSyntaxes: STORABLE_TRANSFER_SYNTAXES,
          },
          batch,
          run,
          signal,
        );
      },
      classify: classifyImportFailure,
    });
  }

  /** The secret is unsealed just before use, for the URL this command names. */
  private endpoint(target: DicomwebTargetData): DicomwebEndpoint {
    return {
      url: target.url,
      auth: unsealAuth(this.cipher, target),
      pacsAeTitle: target.pacsAeTitle,
      sourceAeTitle: target.sourceAeTitle,
      timeoutMs: target.timeoutMs,
    };
  }
}

/**
 * As an export's failures (classifyStowFailure: DICOMweb codes, credentials), plus the plan's:
 * what the PACS lists cannot be imported as it is (too many instances, capped or malformed answers).
 */
export function classifyImportFailure(error: unknown): ExportBatchFailureData {
  if (error instanceof ImportPlanError) return { transient: false, reason: error.message };
  return classifyStowFailure(error);
}
