import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SecretCipher } from '@pacslink/secrets';
import type { PacsConfig } from '../pacs-configs/pacs-config.entity';
import type { OutboundCommand } from '../pacs-configs/protocols/pacs-protocol';
import { protocolOf } from '../pacs-configs/protocols/pacs-protocols';
import { ImportsRepository } from './imports.repository';
import type { TransferBatch } from './transfer-batch.entity';
import type { Transfer } from './transfer.entity';

/**
 * The worker command of an import's batch, through the PACS's protocol profile: a plan asks what
 * the study (or series) holds; a retrieve names the batch's instances still without an outcome and
 * the series it holds whole, by the transfer's method now (C-MOVE after a fallback).
 */
@Injectable()
export class ImportCommands {
  constructor(
    private readonly imports: ImportsRepository,
    private readonly cipher: SecretCipher,
  ) {}

  /** The command of the batch's `attempt`; undefined when nothing of it is left to retrieve. */
  async commandFor(
    manager: EntityManager,
    batch: Pick<TransferBatch, 'id' | 'kind'>,
    transfer: Pick<Transfer, 'id' | 'studyInstanceUid' | 'seriesInstanceUid' | 'method'>,
    config: PacsConfig,
    context: { attempt: number; defaultCallingAeTitle: string },
  ): Promise<OutboundCommand | undefined> {
    const protocol = protocolOf(config.type);
    const built = { cipher: this.cipher, defaultCallingAeTitle: context.defaultCallingAeTitle };
    const ref = {
      transferId: transfer.id,
      batchId: batch.id,
      attempt: context.attempt,
      studyInstanceUid: transfer.studyInstanceUid,
      pacsConfigId: config.id,
    };
    if (batch.kind === 'plan') {
      const series = transfer.seriesInstanceUid;
      return protocol.importPlanCommand(
        config,
        { ...ref, ...(series ? { seriesInstanceUid: series } : {}) },
        built,
      );
    }
    const instances = await this.imports.unansweredOf(manager, batch.id);
    if (instances.length === 0) return undefined;
    const wholeSeries = await this.imports.wholeSeriesOf(manager, transfer.id, batch.id);
    return protocol.importBatchCommand(
      config,
      { ...ref, instances, wholeSeries },
      { ...built, method: transfer.method },
    );
  }
}
