import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ImportInstanceData } from '@pacslink/contracts';
import type { PacsConfig } from '../pacs-configs/pacs-config.entity';
import { protocolOf } from '../pacs-configs/protocols/pacs-protocols';
import { StudyIndexService } from '../studies/study-index.service';
import { ALREADY_STORED, planRetrieval } from './import-transitions';
import { ImportsRepository, type PlannedInstance } from './imports.repository';
import type { Transfer } from './transfer.entity';
import { TransfersRepository } from './transfers.repository';

/**
 * Turns what the PACS holds into an import's instances and retrieve batches (ADR 0008): what the
 * study store's index already holds is a success at once ("already in the study store": resume and
 * re-import fetch nothing twice), the rest goes in retrieve batches (planRetrieval). Runs in the
 * caller's transaction, which holds the PACS's lock.
 */
@Injectable()
export class ImportPlanning {
  constructor(
    private readonly imports: ImportsRepository,
    private readonly transfers: TransfersRepository,
    private readonly studies: StudyIndexService,
  ) {}

  /** A plan batch came back with the PACS's manifest: the transfer's instances and batches. */
  async planned(
    manager: EntityManager,
    transfer: Pick<Transfer, 'id' | 'pacsConfigId' | 'studyInstanceUid' | 'seriesInstanceUid'>,
    planBatchId: string,
    manifest: readonly ImportInstanceData[],
    config: PacsConfig,
  ): Promise<void> {
    const held = await this.studies.heldOf(
      manager,
      transfer.studyInstanceUid,
      manifest.map((i) => i.sopInstanceUid),
    );
    const plan = planRetrieval(
      manifest,
      held,
      protocolOf(config.type).batchSlots(config),
      transfer.seriesInstanceUid,
    );
    const batchOf = await this.insertBatches(manager, transfer, plan.batches);
    const instances: PlannedInstance[] = plan.instances.map((instance) =>
      held.has(instance.sopInstanceUid)
        ? { ...instance, batchId: planBatchId, status: 'success', reason: ALREADY_STORED }
        : {
            ...instance,
            batchId: batchOf.get(instance.sopInstanceUid) as string,
            status: 'pending',
            reason: null,
          },
    );
    await this.imports.insertPlannedInstances(manager, transfer.id, instances);
  }

  /**
   * POST /retry of an import: a new plan when the first never came back; else what is not stored
   * yet, less what the index holds now, in new retrieve batches. Answers how many go again.
   */
  async replan(
    manager: EntityManager,
    transfer: Pick<Transfer, 'id' | 'pacsConfigId' | 'studyInstanceUid'>,
    config: PacsConfig,
  ): Promise<number> {
    if ((await this.imports.countInstances(manager, transfer.id)) === 0) {
      const seq = await this.transfers.nextBatchSeq(manager, transfer.id);
      await this.imports.insertBatches(manager, transfer, 'plan', [randomUUID()], seq);
      return 0;
    }
    const missing = await this.imports.instancesToFetch(manager, transfer.id);
    const held = await this.studies.heldOf(
      manager,
      transfer.studyInstanceUid,
      missing.map((i) => i.sopInstanceUid),
    );
    const plan = planRetrieval(missing, held, protocolOf(config.type).batchSlots(config), null);
    const batchOf = await this.insertBatches(manager, transfer, plan.batches);
    const fetched = plan.batches.flat().map((i) => i.sopInstanceUid);
    await this.transfers.reassignInstances(
      manager,
      transfer.id,
      fetched,
      fetched.map((uid) => batchOf.get(uid) as string),
    );
    await this.imports.recordOutcomes(
      manager,
      transfer.id,
      null,
      plan.held.map((i) => ({ sopInstanceUid: i.sopInstanceUid, status: 'success', reason: ALREADY_STORED })),
    );
    return fetched.length;
  }

  /** Inserts a retrieve batch for each of `batches`; answers each instance's batch id. */
  private async insertBatches(
    manager: EntityManager,
    transfer: Pick<Transfer, 'id' | 'pacsConfigId'>,
    batches: readonly ImportInstanceData[][],
  ): Promise<Map<string, string>> {
    const ids = batches.map(() => randomUUID());
    if (ids.length > 0) {
      const seq = await this.transfers.nextBatchSeq(manager, transfer.id);
      await this.imports.insertBatches(manager, transfer, 'retrieve', ids, seq);
    }
    return new Map(batches.flatMap((batch, n) => batch.map((i) => [i.sopInstanceUid, ids[n]] as const)));
  }
}
