import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  type ExportBatchClaim,
  type ExportBatchFinishedData,
  type ExportBatchProgressData,
  type ExportBatchRef,
  type ExportBatchRunRef,
} from '@pacslink/contracts';
import { maskPatientData, type PatientIdentity } from '@pacslink/dicom';
import { ANSWER_LATER, OutboxRelay, type DeadLetterInfo, type ReplyAddress } from '@pacslink/messaging';
import { StudyIndexService } from '../studies/study-index.service';
import { decideClaim, decideDeadLetter, decideFinished, decideProgress } from './batch-transitions';
import { attemptVerdict } from './circuit-transitions';
import { ImportReports } from './import-reports';
import { PacsCircuitBreaker } from './pacs-circuit-breaker';
import { hasReportText, maskReport } from './report-text';
import { HeldClaimAnswers } from './held-claim-answers';
import { TransferDispatcher } from './transfer-dispatcher';
import { TransferLedger } from './transfer-ledger';
import { TransfersRepository, type LockedBatch } from './transfers.repository';

/**
 * What workers tell config-service about the batches it dispatched: claims, progress, the end.
 * A claim or report for another attempt of a batch is stale (the batch was dispatched again) and
 * changes nothing; a repeated report sets the same outcomes again and counts nothing twice.
 */
@Injectable()
export class TransferReportsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transfers: TransfersRepository,
    private readonly dispatcher: TransferDispatcher,
    private readonly ledger: TransferLedger,
    private readonly relay: OutboxRelay,
    private readonly studies: StudyIndexService,
    private readonly circuit: PacsCircuitBreaker,
    private readonly imports: ImportReports,
    private readonly heldClaims: HeldClaimAnswers,
  ) {}

  /**
   * A worker run asks before it opens an association: is this batch still wanted, and by it? One
   * attempt has one sender: another run's claim waits while the holder's lease is live. A batch
   * dispatched ahead while every slot of its PACS runs has its claim held (ANSWER_LATER): the change
   * that frees a slot grants it and HeldClaimAnswers answers after the commit.
   */
  async claim(
    run: ExportBatchRunRef,
    replyAddress: ReplyAddress | undefined,
  ): Promise<ExportBatchClaim | typeof ANSWER_LATER> {
    const answer = await this.inPacsTransaction(run, async (manager, locked) => {
      let batch: LockedBatch | undefined = locked;
      let transfer = await this.transfers.lockTransfer(manager, locked.transferId);
      // Only a dispatched batch needs a free slot (two statements more on the claim's way).
      const slotFree = async (current: LockedBatch | undefined) =>
        current?.state !== 'dispatched' || (await this.dispatcher.slotFree(manager, locked.pacsConfigId));
      let decision = decideClaim(batch, transfer.status, run, await slotFree(batch));
      if (decision.kind === 'take-over') {
        // The holder went silent for a whole lease: its attempt failed, as the sweep would count it.
        await this.ledger.expireLease(manager, locked);
        await this.dispatcher.dispatch(manager, locked.pacsConfigId);
        batch = await this.transfers.lockBatch(manager, locked.id);
        transfer = await this.transfers.lockTransfer(manager, locked.transferId);
        decision = decideClaim(batch, transfer.status, run, await slotFree(batch));
      }
      switch (decision.kind) {
        case 'refuse':
          return { go: false, reason: decision.reason };
        case 'wait':
          return { go: false, reason: decision.reason, retryAfterMs: decision.retryAfterMs };
        case 'hold':
          // No address (not asked as a request): it asks again, as a run told to wait does.
          if (!replyAddress)
            return { go: false, reason: 'every slot of the PACS is sending', retryAfterMs: 1_000 };
          await this.heldClaims.hold(manager, locked.id, run.claimant, replyAddress);
          return ANSWER_LATER;
        case 'take-over':
          // Cannot happen twice: expireLease left the batch dispatched or closed.
          return { go: false, reason: 'the batch could not be taken over' };
        case 'grant':
          await this.ledger.grant(manager, batch ?? locked, transfer, run.claimant);
          return { go: true };
      }
    });
    return answer ?? { go: false, reason: 'no such batch' };
  }

  async progress(received: ExportBatchProgressData): Promise<void> {
    const report = await this.masked(received);
    const imported = await this.imports.outcomesOf(report);
    await this.inPacsTransaction(report, async (manager, batch) => {
      const decision = decideProgress(batch, report);
      if (decision.kind === 'ignore') return;
      if (imported) await this.imports.progress(manager, batch, report, imported);
      else await this.ledger.applyOutcomes(manager, batch.transferId, batch.id, report.outcomes);
      if (decision.kind === 'renew') await this.ledger.lease(manager, batch.id, report.claimant);
      await this.ledger.progress(manager, await this.ledger.recount(manager, batch.transferId));
      // The PACS answers: a probe's first outcome closes its circuit, and the rest go at once.
      if (report.outcomes.length === 0) return;
      const change = await this.circuit.recordAttempt(manager, batch.pacsConfigId, {
        batchId: batch.id,
        verdict: 'answered',
        reason: 'the PACS answered',
      });
      if (change === 'close') await this.dispatcher.dispatch(manager, batch.pacsConfigId);
    });
  }

  /** The end of a run; it carries every outcome of the run, so settling never runs on half of them. */
  async finished(received: ExportBatchFinishedData): Promise<void> {
    const report = await this.masked(received);
    const imported = await this.imports.outcomesOf(report);
    await this.inPacsTransaction(report, async (manager, batch) => {
      if (batch.attempt !== report.attempt) return;
      const judged = imported
        ? await this.imports.finished(manager, batch, report, imported)
        : await this.sendFinished(manager, batch, report);
      if (!judged) return;
      // What this attempt showed about the PACS, before anything more goes to it.
      await this.circuit.recordAttempt(manager, batch.pacsConfigId, {
        batchId: batch.id,
        verdict: attemptVerdict(report),
        reason: report.failure?.reason ?? 'the PACS answered',
      });
      await this.dispatcher.dispatch(manager, batch.pacsConfigId);
    });
  }

  /** The end of an export run; answers whether it counts as an attempt on the PACS. */
  private async sendFinished(
    manager: EntityManager,
    batch: LockedBatch,
    report: ExportBatchFinishedData,
  ): Promise<boolean> {
    await this.ledger.applyOutcomes(manager, batch.transferId, batch.id, report.outcomes);
    const decision = decideFinished(batch, report, await this.transfers.countUnanswered(manager, batch.id));
    switch (decision.kind) {
      case 'ignore':
        return false;
      case 'record':
        await this.ledger.progress(manager, await this.ledger.recount(manager, batch.transferId));
        return false;
      case 'fail-transfer':
        await this.ledger.failOnRun(manager, batch, decision.reason, report.failure?.code);
        break;
      case 'retry-later':
        await this.ledger.retryLater(manager, batch, decision.reason);
        await this.ledger.progress(manager, await this.ledger.recount(manager, batch.transferId));
        break;
      case 'done':
        await this.transfers.markBatchDone(manager, batch.id);
        await this.ledger.progress(manager, await this.ledger.settle(manager, batch.transferId));
        break;
    }
    return true;
  }

  /**
   * A batch command a worker queue dead-lettered. Refused as invalid: it will never be sent, so its
   * transfer fails now with the reason. Dropped by the broker after its delivery limit: a failed
   * attempt of the batch, which goes again later (see decideDeadLetter).
   */
  async deadLettered(ref: ExportBatchRef, letter: DeadLetterInfo): Promise<void> {
    const reason = maskPatientData(letter.reason, await this.patientOf(ref.transferId));
    await this.inPacsTransaction(ref, async (manager, batch) => {
      const decision = decideDeadLetter(batch, { attempt: ref.attempt, refused: letter.refused, reason });
      switch (decision.kind) {
        case 'ignore':
          return;
        case 'fail-transfer':
          await this.transfers.markBatchDone(manager, batch.id, { lastError: decision.reason });
          await this.ledger.fail(manager, batch.transferId, decision.reason);
          break;
        case 'retry-later':
          await this.ledger.retryLater(manager, batch, decision.reason);
          break;
      }
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
    const studyInstanceUid = await this.transfers.studyOf(transferId);
    return studyInstanceUid === undefined ? {} : this.studies.patientOf(studyInstanceUid);
  }

  /** Runs `work` with the batch's PACS locked and the batch row locked; undefined if there is no such batch. */
  private async inPacsTransaction<R>(
    ref: ExportBatchRef,
    work: (manager: EntityManager, batch: LockedBatch) => Promise<R>,
  ): Promise<R | undefined> {
    const found = await this.transfers.findBatchRef(ref);
    if (!found) return undefined;
    const result = await this.dataSource.transaction(async (manager) => {
      await this.transfers.lockPacs(manager, found.pacsConfigId);
      const batch = await this.transfers.lockBatch(manager, ref.batchId);
      return batch ? work(manager, batch) : undefined;
    });
    this.relay.wake();
    this.heldClaims.answerDecided();
    return result;
  }
}
