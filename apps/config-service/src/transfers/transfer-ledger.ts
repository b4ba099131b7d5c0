import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  TransferEvents,
  type InstanceOutcomeData,
  type MessageContract,
  type TransferDirection,
  type TransferEventData,
} from '@pacslink/contracts';
import { Outbox } from '@pacslink/messaging';
import { AuditLog } from '../audit/audit-log';
import { EgressAudit, isEgressRefusal } from '../egress/egress-audit';
import { attemptsAfterClaim, decideExpiry, failedAttempt } from './batch-transitions';
import { toTransferEventData } from './transfer.mapper';
import { TRANSFER_OPTIONS, retryDelayMs, type TransferOptions } from './transfer-options';
import type { Transfer } from './transfer.entity';
import {
  countsOf,
  decideSettle,
  describeRefusals,
  finishedEvent,
  isActive,
  progressDue,
  type TerminalStatus,
} from './transfer-transitions';
import { TransfersRepository, type LockedBatch } from './transfers.repository';

/** How many refused instances a failed transfer's `error` names; the instances list has them all. */
const NAMED_FAILURES = 3;
const SYSTEM = { id: 'system' };

/**
 * The transfer state machine, always inside the caller's transaction (which holds the PACS lock,
 * see TransferDispatcher): outcomes, counts, batch retries, the terminal states, and the events
 * and audit entries that go with each change.
 */
@Injectable()
export class TransferLedger {
  private readonly logger = new Logger(TransferLedger.name);

  constructor(
    private readonly outbox: Outbox,
    private readonly audit: AuditLog,
    private readonly transfers: TransfersRepository,
    private readonly egressAudit: EgressAudit,
    @Inject(TRANSFER_OPTIONS) private readonly options: TransferOptions,
  ) {}

  async emit(
    manager: EntityManager,
    contract: MessageContract<TransferEventData>,
    row: Transfer,
  ): Promise<void> {
    await this.outbox.enqueue(manager, contract, toTransferEventData(row));
  }

  /**
   * A claim is granted: the run holds the batch's attempt (lease, running), and the transfer is
   * started (its first claim) or counts the attempt. From a claim, or from the change that freed
   * the slot a held claim waited for.
   */
  async grant(
    manager: EntityManager,
    batch: Pick<LockedBatch, 'id' | 'failures'>,
    transfer: Transfer,
    claimant: string,
  ): Promise<void> {
    await this.lease(manager, batch.id, claimant);
    const attempts = attemptsAfterClaim(transfer, batch);
    if (transfer.status === 'queued') {
      const now = new Date();
      Object.assign(transfer, { status: 'running', attempts, startedAt: now, updatedAt: now });
      await this.transfers.markTransferStarted(manager, transfer.id, { attempts, at: now });
      await this.emit(manager, TransferEvents.Started, transfer);
    } else if (attempts !== transfer.attempts) {
      await this.transfers.saveAttempts(manager, transfer.id, attempts);
    }
  }

  /** `claimant` holds the batch's attempt now: running, leased for leaseMs from now (the database's). */
  async lease(manager: EntityManager, batchId: string, claimant: string): Promise<void> {
    await this.transfers.leaseBatch(manager, batchId, claimant, this.options.leaseMs);
  }

  /**
   * After a time in which this replica could not have heard the workers' reports (it just started,
   * or the database or the broker was away), every running lease gets a full lease from now:
   * heartbeats that waited in the queue must not be mistaken for silence.
   */
  async extendRunningLeases(manager: EntityManager, pacsConfigId: string): Promise<void> {
    await this.transfers.extendRunningLeases(manager, pacsConfigId, this.options.leaseMs);
  }

  /**
   * Records what the PACS answered for instances of `batchId`; a repeated report changes nothing.
   * An instance the PACS accepted stays accepted: a later refusal (a resend of the same attempt by
   * another run) does not take it back from the PACS.
   */
  async applyOutcomes(
    manager: EntityManager,
    transferId: string,
    batchId: string,
    outcomes: readonly InstanceOutcomeData[],
  ): Promise<void> {
    if (outcomes.length === 0) return;
    await this.transfers.recordOutcomes(manager, transferId, batchId, outcomes);
  }

  /** Recounts the instances into the transfer row and returns it (locked). */
  async recount(manager: EntityManager, transferId: string): Promise<Transfer> {
    const row = await this.transfers.lockTransfer(manager, transferId);
    const counts = await this.transfers.countInstancesByStatus(manager, transferId);
    Object.assign(row, countsOf(counts), { updatedAt: new Date() });
    await this.transfers.saveCounts(manager, row);
    return row;
  }

  /** A throttled transfer.progress while the transfer runs. */
  async progress(manager: EntityManager, row: Transfer): Promise<void> {
    if (!progressDue(row, Date.now())) return;
    row.progressPublishedAt = new Date();
    await this.transfers.markProgressPublished(manager, row.id, row.progressPublishedAt);
    await this.emit(manager, TransferEvents.Progress, row);
  }

  /**
   * Recounts; once no batch of an active transfer is open any more: completed when every instance
   * was accepted, else failed naming the refused instances. Returns the transfer as it now is.
   */
  async settle(manager: EntityManager, transferId: string): Promise<Transfer> {
    const row = await this.recount(manager, transferId);
    if (!isActive(row.status)) return row;
    const decision = decideSettle(row, await this.transfers.countOpenBatches(manager, transferId));
    switch (decision.kind) {
      case 'none':
        break;
      case 'complete':
        await this.finish(manager, row, 'completed', null);
        break;
      case 'fail-naming-refusals': {
        const refused = await this.transfers.refusedInstances(manager, row.id, NAMED_FAILURES);
        await this.finish(manager, row, 'failed', describeRefusals(row, refused));
        break;
      }
    }
    return row;
  }

  /** Fails the transfer at once (a permanent failure); its open batches are cancelled. */
  async fail(manager: EntityManager, transferId: string, reason: string): Promise<void> {
    const row = await this.recount(manager, transferId);
    if (!isActive(row.status)) return;
    await this.transfers.cancelOpenBatches(manager, transferId);
    await this.finish(manager, row, 'failed', reason);
  }

  /** Fails the PACS's active transfers (of one direction only, when given). */
  /**
   * A run's permanent failure (`code`: the worker's error code): the batch closes with it and the
   * transfer fails; a destination the egress policy refused is audited as such.
   */
  async failOnRun(
    manager: EntityManager,
    batch: Pick<LockedBatch, 'id' | 'transferId' | 'pacsConfigId'>,
    reason: string,
    code: string | undefined,
  ): Promise<void> {
    if (isEgressRefusal(code)) {
      const transfer = await this.transfers.lockTransfer(manager, batch.transferId);
      await this.egressAudit.transferRefused(manager, transfer, batch.pacsConfigId, reason);
    }
    await this.transfers.markBatchDone(manager, batch.id, { lastError: reason });
    await this.fail(manager, batch.transferId, reason);
  }

  /** Fails the PACS's active transfers (of one direction only, when given). */
  async failActiveTransfersOf(
    manager: EntityManager,
    pacsConfigId: string,
    reason: string,
    direction?: TransferDirection,
  ): Promise<void> {
    for (const id of await this.transfers.activeTransfersOf(manager, pacsConfigId, direction)) {
      await this.fail(manager, id, reason);
    }
  }

  /**
   * A failed attempt of a batch (refused, timeout, 5xx, a worker gone): it waits out a growing
   * delay (by the database's clock) and goes again, until `maxAttempts` attempts failed; then its
   * transfer fails.
   */
  async retryLater(
    manager: EntityManager,
    batch: Pick<LockedBatch, 'id' | 'transferId' | 'failures'>,
    reason: string,
  ): Promise<void> {
    const failures = batch.failures + 1;
    if (failedAttempt(batch, this.options.maxAttempts) === 'give-up') {
      await this.transfers.markBatchDone(manager, batch.id, { lastError: reason, failures });
      await this.fail(manager, batch.transferId, `${reason} (gave up after ${failures} attempts)`);
      return;
    }
    await this.transfers.retryBatchLater(manager, batch.id, {
      reason,
      failures,
      delayMs: retryDelayMs(this.options, failures),
    });
  }

  /**
   * A batch whose lease ran out (by the database's clock). Unclaimed: pending again at once, so
   * that dispatch sends it as a new attempt — waiting in a queue (a backlog, a broker outage) is
   * not a failure. Claimed: its run went silent — a failed attempt; the batch waits, dispatched
   * under the same attempt, for that run's command to come back to another worker.
   */
  async takeBackExpired(manager: EntityManager, batchId: string): Promise<void> {
    const batch = await this.transfers.lockBatch(manager, batchId);
    if (batch) await this.expireLease(manager, batch);
  }

  /** takeBackExpired for a batch the caller locked (a claim that finds its holder silent). */
  async expireLease(manager: EntityManager, batch: LockedBatch): Promise<void> {
    const decision = decideExpiry(batch, this.options);
    switch (decision.kind) {
      case 'none':
        return;
      case 'dispatch-again':
        await this.transfers.dispatchBatchAgain(manager, batch.id, decision.reason);
        return;
      case 'reopen':
        await this.reopen(manager, batch, decision.reason);
        return;
      case 'retry-later':
        await this.retryLater(manager, batch, decision.reason);
        return;
      case 'give-up':
        await this.transfers.markBatchDone(manager, batch.id, {
          lastError: decision.reason,
          failures: batch.failures + 1,
        });
        await this.fail(manager, batch.transferId, decision.reason);
        return;
    }
  }

  /** The holder's attempt failed; the same attempt is claimable again (dispatch lease). */
  async reopen(
    manager: EntityManager,
    batch: Pick<LockedBatch, 'id' | 'failures'>,
    reason: string,
  ): Promise<void> {
    await this.transfers.reopenBatch(manager, batch.id, {
      reason,
      failures: batch.failures + 1,
      dispatchLeaseMs: this.options.dispatchLeaseMs,
    });
  }

  private async finish(
    manager: EntityManager,
    row: Transfer,
    status: TerminalStatus,
    error: string | null,
  ): Promise<void> {
    const now = new Date();
    Object.assign(row, { status, error, finishedAt: now, updatedAt: now });
    await this.transfers.markTransferFinished(manager, row.id, { status, error, at: now });
    await this.emit(manager, finishedEvent(status), row);
    // The error quotes PACSs with the patient already masked (TransferReportsService).
    if (status === 'failed') this.logger.warn({ msg: 'transfer failed', transferId: row.id, error });
    if (status !== 'cancelled') {
      await this.audit.record(manager, SYSTEM, {
        action: `transfer.${status}`,
        entityType: 'transfer',
        entityId: row.id,
        change: { progress: toTransferEventData(row).progress, ...(error !== null ? { error } : {}) },
      });
    }
  }

  /** Ends an active transfer at the user's request. */
  async cancel(manager: EntityManager, row: Transfer): Promise<void> {
    await this.transfers.cancelOpenBatches(manager, row.id);
    await this.finish(manager, row, 'cancelled', null);
  }
}
