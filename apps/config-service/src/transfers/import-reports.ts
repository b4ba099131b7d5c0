import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { ExportBatchFinishedData, ExportBatchProgressData } from '@pacslink/contracts';
import { OutboxRelay } from '@pacslink/messaging';
import { PacsConfigsService } from '../pacs-configs/pacs-configs.service';
import { RetrievedInstancesHub, type RetrievedInstances } from '../studies/retrieved-instances';
import { ImportPlanning } from './import-planning';
import { NOT_SENT, decideArrival, decidePlanFinished, decideRetrieveFinished } from './import-transitions';
import { ImportedFiles } from './imported-files';
import { ImportsRepository, type ImportOutcome } from './imports.repository';
import { TransferDispatcher } from './transfer-dispatcher';
import { TransferLedger } from './transfer-ledger';
import { TRANSFER_OPTIONS, type TransferOptions } from './transfer-options';
import type { Transfer } from './transfer.entity';
import { TransfersRepository, type LockedBatch } from './transfers.repository';

/**
 * What an import's reports do (ADR 0008), inside TransferReportsService's transaction (which holds
 * the PACS's lock and the batch): a plan's manifest becomes instances and retrieve batches; a
 * retrieve run's outcomes (files already read and indexed, ImportedFiles) are recorded, its
 * fallback kept on the transfer, and its end settles the batch — or leaves a C-MOVE's batch waiting
 * for the Storage SCP's arrivals, which come here too (RetrievedInstancesHub).
 */
@Injectable()
export class ImportReports implements OnModuleInit {
  private readonly logger = new Logger(ImportReports.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly imports: ImportsRepository,
    private readonly transfers: TransfersRepository,
    private readonly ledger: TransferLedger,
    private readonly planning: ImportPlanning,
    private readonly dispatcher: TransferDispatcher,
    private readonly pacsConfigs: PacsConfigsService,
    private readonly files: ImportedFiles,
    private readonly relay: OutboxRelay,
    private readonly retrieved: RetrievedInstancesHub,
    @Inject(TRANSFER_OPTIONS) private readonly options: TransferOptions,
  ) {}

  onModuleInit(): void {
    this.retrieved.listen((arrived) => this.arrived(arrived));
  }

  /**
   * The report's outcomes read against the study store, when it is about an import's batch;
   * undefined for an export's.
   */
  async outcomesOf(report: ExportBatchProgressData): Promise<ImportOutcome[] | undefined> {
    const studyInstanceUid = await this.imports.studyOfImport(report.transferId);
    if (studyInstanceUid === undefined) return undefined;
    return this.files.outcomesOf(report, studyInstanceUid);
  }

  /** A progress report of an import run: its outcomes, and the method it fell back to. */
  async progress(
    manager: EntityManager,
    batch: LockedBatch,
    report: ExportBatchProgressData,
    outcomes: readonly ImportOutcome[],
  ): Promise<void> {
    await this.imports.recordOutcomes(manager, batch.transferId, batch.id, outcomes);
    await this.keepFallback(manager, batch.transferId, report);
  }

  /**
   * The end of an import run (its outcomes recorded first). Answers whether the run counts as an
   * attempt on the PACS (for the circuit and the next dispatch), as for export.
   */
  async finished(
    manager: EntityManager,
    batch: LockedBatch,
    report: ExportBatchFinishedData,
    outcomes: readonly ImportOutcome[],
  ): Promise<boolean> {
    await this.imports.recordOutcomes(manager, batch.transferId, batch.id, outcomes);
    const transfer = await this.keepFallback(manager, batch.transferId, report);
    return batch.kind === 'plan'
      ? this.planFinished(manager, batch, report, transfer)
      : this.retrieveFinished(manager, batch, report, transfer);
  }

  private async planFinished(
    manager: EntityManager,
    batch: LockedBatch,
    report: ExportBatchFinishedData,
    transfer: Transfer,
  ): Promise<boolean> {
    const decision = decidePlanFinished(batch, report, transfer);
    switch (decision.kind) {
      case 'ignore':
      case 'record':
        return false;
      case 'fail-transfer':
        await this.ledger.failOnRun(manager, batch, decision.reason, report.failure?.code);
        return true;
      case 'retry-later':
        await this.ledger.retryLater(manager, batch, decision.reason);
        return true;
      case 'plan': {
        const config = await this.pacsConfigs.findIn(manager, batch.pacsConfigId);
        // Gone meanwhile: dispatch fails the transfer, naming it.
        if (config) await this.planning.planned(manager, transfer, batch.id, decision.manifest, config);
        await this.transfers.markBatchDone(manager, batch.id);
        await this.ledger.progress(manager, await this.ledger.settle(manager, batch.transferId));
        return true;
      }
    }
  }

  private async retrieveFinished(
    manager: EntityManager,
    batch: LockedBatch,
    report: ExportBatchFinishedData,
    transfer: Transfer,
  ): Promise<boolean> {
    const unanswered = await this.transfers.countUnanswered(manager, batch.id);
    const decision = decideRetrieveFinished(batch, report, { unanswered, method: transfer.method });
    switch (decision.kind) {
      case 'ignore':
        return false;
      case 'record':
        await this.ledger.progress(manager, await this.ledger.recount(manager, batch.transferId));
        return false;
      case 'fail-transfer':
        await this.ledger.failOnRun(manager, batch, decision.reason, report.failure?.code);
        return true;
      case 'retry-later':
        await this.ledger.retryLater(manager, batch, decision.reason);
        await this.ledger.progress(manager, await this.ledger.recount(manager, batch.transferId));
        return true;
      case 'await-arrivals':
        await this.imports.awaitArrivals(manager, batch.id, this.options.leaseMs);
        await this.ledger.progress(manager, await this.ledger.recount(manager, batch.transferId));
        return true;
      case 'fail-missing':
        await this.imports.failUnanswered(manager, batch.id, NOT_SENT);
        await this.transfers.markBatchDone(manager, batch.id);
        await this.ledger.progress(manager, await this.ledger.settle(manager, batch.transferId));
        return true;
      case 'done':
        await this.transfers.markBatchDone(manager, batch.id);
        await this.ledger.progress(manager, await this.ledger.settle(manager, batch.transferId));
        return true;
    }
  }

  /**
   * Instances a C-MOVE of ours brought through the Storage SCP, indexed: the outcomes of every
   * active import of their study from that PACS, whichever batch names them; a batch waiting for
   * them closes once the last arrived. Under the PACS's lock, as the other reports.
   */
  async arrived({ pacsConfigId, files }: RetrievedInstances): Promise<void> {
    const studies = new Map<string, ImportOutcome[]>();
    for (const file of files) {
      const outcomes = studies.get(file.studyInstanceUid) ?? [];
      outcomes.push({
        sopInstanceUid: file.sopInstanceUid,
        status: 'success',
        file: { transferSyntaxUid: file.transferSyntaxUid, sizeBytes: file.sizeBytes },
      });
      studies.set(file.studyInstanceUid, outcomes);
    }
    await this.dataSource.transaction(async (manager) => {
      await this.transfers.lockPacs(manager, pacsConfigId);
      for (const [studyInstanceUid, outcomes] of studies) {
        const importing = await this.imports.activeImportsOf(manager, pacsConfigId, studyInstanceUid);
        if (importing.length === 0) {
          this.logger.warn({
            msg: 'instances of a C-MOVE of ours arrived for no active import',
            pacsConfigId,
            studyInstanceUid,
            instances: outcomes.length,
          });
        }
        for (const transferId of importing) await this.recordArrivals(manager, transferId, outcomes);
      }
      await this.dispatcher.dispatch(manager, pacsConfigId);
    });
    this.relay.wake();
  }

  private async recordArrivals(
    manager: EntityManager,
    transferId: string,
    outcomes: readonly ImportOutcome[],
  ): Promise<void> {
    for (const batchId of await this.imports.recordOutcomes(manager, transferId, null, outcomes)) {
      const batch = await this.transfers.lockBatch(manager, batchId);
      if (!batch) continue;
      const decision = decideArrival(batch, await this.transfers.countUnanswered(manager, batchId));
      if (decision.kind === 'done') await this.transfers.markBatchDone(manager, batchId);
      if (decision.kind === 'renew')
        await this.imports.renewArrivalLease(manager, batchId, this.options.leaseMs);
    }
    await this.ledger.progress(manager, await this.ledger.settle(manager, transferId));
  }

  /** The method a run fell back to, kept on the transfer (later events and batches use it). */
  private async keepFallback(
    manager: EntityManager,
    transferId: string,
    report: ExportBatchProgressData,
  ): Promise<Transfer> {
    const transfer = await this.transfers.lockTransfer(manager, transferId);
    if (report.method === undefined || report.method === transfer.method) return transfer;
    const change = { method: report.method, fallback: report.fallback ?? transfer.fallback };
    await this.imports.switchMethod(manager, transferId, change);
    this.logger.log({ msg: 'import fell back', transferId, ...change });
    return Object.assign(transfer, change);
  }
}
