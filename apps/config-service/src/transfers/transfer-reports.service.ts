import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  TransferEvents,
  type ExportBatchClaim,
  type ExportBatchFinishedData,
  type ExportBatchProgressData,
  type ExportBatchRef,
} from '@pacslink/contracts';
import { maskPatientData, type PatientIdentity } from '@pacslink/dicom';
import { OutboxRelay } from '@pacslink/messaging';
import { StudiesRepository } from '../studies/studies.repository';
import { hasReportText, maskReport } from './report-text';
import { TransferBatch } from './transfer-batch.entity';
import { TransferDispatcher } from './transfer-dispatcher';
import { TransferLedger } from './transfer-ledger';
import { TRANSFER_OPTIONS, type TransferOptions } from './transfer-options';
import { Transfer } from './transfer.entity';

/**
 * What workers tell config-service about the batches it dispatched: claims, progress, the end.
 * A claim or report for another attempt of a batch is stale (the batch was dispatched again) and
 * changes nothing; a repeated report sets the same outcomes again and counts nothing twice.
 */
@Injectable()
export class TransferReportsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly dispatcher: TransferDispatcher,
    private readonly ledger: TransferLedger,
    private readonly relay: OutboxRelay,
    private readonly studies: StudiesRepository,
    @Inject(TRANSFER_OPTIONS) private readonly options: TransferOptions,
  ) {}

  /** A worker asks before it opens an association: is this batch still wanted, and by it? */
  async claim(ref: ExportBatchRef): Promise<ExportBatchClaim> {
    const answer = await this.inPacsTransaction(ref, async (manager, batch) => {
      if (batch.attempt !== ref.attempt) return { go: false, reason: 'the batch was dispatched again since' };
      if (batch.state !== 'dispatched' && batch.state !== 'running') {
        return { go: false, reason: `the batch is ${batch.state}` };
      }
      const transfer = await this.ledger.row(manager, batch.transferId);
      if (transfer.status !== 'queued' && transfer.status !== 'running') {
        return { go: false, reason: `the transfer is ${transfer.status}` };
      }
      // A redelivery after a worker died claims the same attempt again: that is the point.
      await manager.update(
        TransferBatch,
        { id: batch.id },
        { state: 'running', leaseUntil: new Date(Date.now() + this.options.leaseMs) },
      );
      const attempts = Math.max(transfer.attempts, transfer.retries + batch.attempt);
      if (transfer.status === 'queued') {
        const now = new Date();
        Object.assign(transfer, { status: 'running', attempts, startedAt: now, updatedAt: now });
        await manager.update(
          Transfer,
          { id: transfer.id },
          { status: 'running', attempts, startedAt: now, updatedAt: now },
        );
        await this.ledger.emit(manager, TransferEvents.Started, transfer);
      } else if (attempts !== transfer.attempts) {
        await manager.update(Transfer, { id: transfer.id }, { attempts });
      }
      return { go: true };
    });
    return answer ?? { go: false, reason: 'no such batch' };
  }

  async progress(received: ExportBatchProgressData): Promise<void> {
    const report = await this.masked(received);
    await this.inPacsTransaction(report, async (manager, batch) => {
      if (batch.attempt !== report.attempt) return;
      await this.ledger.applyOutcomes(manager, batch.transferId, batch.id, report.outcomes);
      if (batch.state === 'running') {
        await manager.update(
          TransferBatch,
          { id: batch.id },
          { leaseUntil: new Date(Date.now() + this.options.leaseMs) },
        );
      }
      await this.ledger.progress(manager, await this.ledger.recount(manager, batch.transferId));
    });
  }

  async finished(received: ExportBatchFinishedData): Promise<void> {
    const report = await this.masked(received);
    await this.inPacsTransaction(report, async (manager, batch) => {
      if (batch.attempt !== report.attempt) return;
      await this.ledger.applyOutcomes(manager, batch.transferId, batch.id, report.outcomes);
      if (batch.state !== 'running' && batch.state !== 'dispatched') {
        await this.ledger.recount(manager, batch.transferId);
        return;
      }
      const unanswered = await this.unanswered(manager, batch.id);
      if (report.failure && !report.failure.transient) {
        await manager.update(
          TransferBatch,
          { id: batch.id },
          { state: 'done', leaseUntil: null, lastError: report.failure.reason },
        );
        await this.ledger.fail(manager, batch.transferId, report.failure.reason);
      } else if (unanswered > 0) {
        const reason =
          report.failure?.reason ?? `the worker finished without an answer for ${unanswered} instances`;
        await this.ledger.retryLater(manager, batch, reason);
        await this.ledger.progress(manager, await this.ledger.recount(manager, batch.transferId));
      } else {
        await manager.update(TransferBatch, { id: batch.id }, { state: 'done', leaseUntil: null });
        await this.ledger.progress(manager, await this.ledger.settle(manager, batch.transferId));
      }
      await this.dispatcher.dispatch(manager, batch.pacsConfigId);
    });
  }

  /**
   * A batch command a worker dead-lettered (refused as invalid, or redelivered past the delivery
   * limit): it will never be sent, so its transfer fails now with the reason, rather than after
   * the batch's lease expired as many times as attempts allow.
   */
  async deadLettered(ref: ExportBatchRef, reason: string): Promise<void> {
    const masked = maskPatientData(reason, await this.patientOf(ref.transferId));
    await this.inPacsTransaction(ref, async (manager, batch) => {
      if (batch.attempt !== ref.attempt) return;
      if (batch.state !== 'dispatched' && batch.state !== 'running') return;
      const why = `the worker could not handle batch ${batch.seq + 1} and dead-lettered it: ${masked}`;
      await manager.update(
        TransferBatch,
        { id: batch.id },
        { state: 'done', leaseUntil: null, lastError: why },
      );
      await this.ledger.fail(manager, batch.transferId, why);
      await this.dispatcher.dispatch(manager, batch.pacsConfigId);
    });
  }

  /**
   * The report with the study's patient masked in what the PACS wrote. Workers are not told whose
   * study they send (a batch command carries UIDs and paths, no patient data), so this is the first
   * place that can mask it; every reason is stored, published and logged only from here.
   */
  private async masked<T extends ExportBatchFinishedData>(report: T): Promise<T> {
    if (!hasReportText(report)) return report;
    return maskReport(report, await this.patientOf(report.transferId));
  }

  private async patientOf(transferId: string): Promise<PatientIdentity> {
    const transfer = await this.dataSource
      .getRepository(Transfer)
      .findOne({ where: { id: transferId }, select: { id: true, studyInstanceUid: true } });
    return transfer === null ? {} : this.studies.patientOf(transfer.studyInstanceUid);
  }

  private async unanswered(manager: EntityManager, batchId: string): Promise<number> {
    const [{ n }] = await manager.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM transfer_instance WHERE batch_id = $1 AND status = 'pending'`,
      [batchId],
    );
    return n;
  }

  /** Runs `work` with the batch's PACS locked and the batch row locked; undefined if there is no such batch. */
  private async inPacsTransaction<R>(
    ref: ExportBatchRef,
    work: (manager: EntityManager, batch: TransferBatch) => Promise<R>,
  ): Promise<R | undefined> {
    const found = await this.dataSource.getRepository(TransferBatch).findOne({
      where: { id: ref.batchId, transferId: ref.transferId },
      select: { id: true, pacsConfigId: true },
    });
    if (!found) return undefined;
    const result = await this.dataSource.transaction(async (manager) => {
      await this.dispatcher.lockPacs(manager, found.pacsConfigId);
      const batch = await manager
        .getRepository(TransferBatch)
        .createQueryBuilder('batch')
        .setLock('pessimistic_write')
        .where('batch.id = :id', { id: ref.batchId })
        .getOneOrFail();
      return work(manager, batch);
    });
    this.relay.wake();
    return result;
  }
}
