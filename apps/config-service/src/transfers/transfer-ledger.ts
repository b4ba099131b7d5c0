import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  TransferEvents,
  type InstanceOutcomeData,
  type MessageContract,
  type TransferEventData,
} from '@pacslink/contracts';
import { Outbox } from '@pacslink/messaging';
import { AuditLog } from '../audit/audit-log';
import { decideExpiry, failedAttempt, type BatchSnapshot } from './batch-transitions';
import { TransferBatch } from './transfer-batch.entity';
import { toTransferEventData } from './transfer.mapper';
import { TRANSFER_OPTIONS, retryDelayMs, type TransferOptions } from './transfer-options';
import { Transfer } from './transfer.entity';

/** At most about two progress events a second per transfer (issue 5). */
const PROGRESS_EVENT_INTERVAL_MS = 500;
/** How many refused instances a failed transfer's `error` names; the instances list has them all. */
const NAMED_FAILURES = 3;
const SYSTEM = { id: 'system' };

const OPEN_BATCH_STATES = `('pending', 'dispatched', 'running')`;

/** A batch row locked for the transaction, its lease judged by the database's clock. */
export type LockedBatch = TransferBatch & BatchSnapshot;

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
    @Inject(TRANSFER_OPTIONS) private readonly options: TransferOptions,
  ) {}

  /** The transfer, locked until the transaction ends. */
  async row(manager: EntityManager, transferId: string): Promise<Transfer> {
    return manager
      .getRepository(Transfer)
      .createQueryBuilder('transfer')
      .setLock('pessimistic_write')
      .where('transfer.id = :transferId', { transferId })
      .getOneOrFail();
  }

  async emit(
    manager: EntityManager,
    contract: MessageContract<TransferEventData>,
    row: Transfer,
  ): Promise<void> {
    await this.outbox.enqueue(manager, contract, toTransferEventData(row));
  }

  /**
   * The batch, locked until the transaction ends; undefined if there is none. Whether its lease is
   * live is asked of the database: every lease is written and judged by the database's clock, never
   * by a replica's own (which may run ahead or behind).
   */
  async lockBatch(manager: EntityManager, batchId: string): Promise<LockedBatch | undefined> {
    const [row] = await manager.query<Record<string, unknown>[]>(
      `SELECT id, transfer_id, pacs_config_id, seq, state, attempt, claimant, failures, available_at,
              lease_until, last_error,
              coalesce(lease_until > now(), false) AS lease_live,
              greatest(0, ceil(extract(epoch FROM lease_until - now()) * 1000))::int AS lease_remaining_ms
         FROM transfer_batch WHERE id = $1 FOR UPDATE`,
      [batchId],
    );
    if (!row) return undefined;
    return {
      id: row.id as string,
      transferId: row.transfer_id as string,
      pacsConfigId: row.pacs_config_id as string,
      seq: row.seq as number,
      state: row.state as LockedBatch['state'],
      attempt: row.attempt as number,
      claimant: row.claimant as string | null,
      failures: row.failures as number,
      availableAt: row.available_at as Date,
      leaseUntil: row.lease_until as Date | null,
      lastError: row.last_error as string | null,
      leaseLive: row.lease_live as boolean,
      leaseRemainingMs: (row.lease_remaining_ms as number | null) ?? 0,
    };
  }

  /** `claimant` holds the batch's attempt now: running, leased for leaseMs from now (the database's). */
  async lease(manager: EntityManager, batchId: string, claimant: string): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET state = 'running', claimant = $2,
              lease_until = now() + $3 * interval '1 millisecond'
        WHERE id = $1`,
      [batchId, claimant, this.options.leaseMs],
    );
  }

  /**
   * After a time in which this replica could not have heard the workers' reports (it just started,
   * or the database or the broker was away), every running lease gets a full lease from now:
   * heartbeats that waited in the queue must not be mistaken for silence.
   */
  async extendRunningLeases(manager: EntityManager, pacsConfigId: string): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET lease_until = greatest(lease_until, now() + $2 * interval '1 millisecond')
        WHERE pacs_config_id = $1 AND state = 'running'`,
      [pacsConfigId, this.options.leaseMs],
    );
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
    await manager.query(
      `UPDATE transfer_instance i
          SET status = o.status, status_code = o.status_code, reason = o.reason
         FROM unnest($3::text[], $4::text[], $5::int[], $6::text[])
              AS o(sop_instance_uid, status, status_code, reason)
        WHERE i.transfer_id = $1 AND i.batch_id = $2 AND i.sop_instance_uid = o.sop_instance_uid
          AND NOT (i.status IN ('success', 'warning') AND o.status = 'failure')`,
      [
        transferId,
        batchId,
        outcomes.map((o) => o.sopInstanceUid),
        outcomes.map((o) => o.status),
        outcomes.map((o) => o.statusCode ?? null),
        outcomes.map((o) => o.reason ?? null),
      ],
    );
  }

  /** Recounts the instances into the transfer row and returns it (locked). */
  async recount(manager: EntityManager, transferId: string): Promise<Transfer> {
    const row = await this.row(manager, transferId);
    const counts = await manager.query<{ status: string; n: number }[]>(
      `SELECT status, count(*)::int AS n FROM transfer_instance WHERE transfer_id = $1 GROUP BY status`,
      [transferId],
    );
    const count = (status: string) => counts.find((c) => c.status === status)?.n ?? 0;
    row.completed = count('success') + count('warning');
    row.warning = count('warning');
    row.failed = count('failure');
    row.updatedAt = new Date();
    await manager.update(
      Transfer,
      { id: transferId },
      { completed: row.completed, warning: row.warning, failed: row.failed, updatedAt: row.updatedAt },
    );
    return row;
  }

  /** A throttled transfer.progress while the transfer runs. */
  async progress(manager: EntityManager, row: Transfer): Promise<void> {
    if (row.status !== 'running') return;
    const last = row.progressPublishedAt?.getTime() ?? 0;
    if (Date.now() - last < PROGRESS_EVENT_INTERVAL_MS) return;
    row.progressPublishedAt = new Date();
    await manager.update(Transfer, { id: row.id }, { progressPublishedAt: row.progressPublishedAt });
    await this.emit(manager, TransferEvents.Progress, row);
  }

  /**
   * Recounts; once no batch of an active transfer is open any more: completed when every instance
   * was accepted, else failed naming the refused instances. Returns the transfer as it now is.
   */
  async settle(manager: EntityManager, transferId: string): Promise<Transfer> {
    const row = await this.recount(manager, transferId);
    if (row.status !== 'queued' && row.status !== 'running') return row;
    const [{ open }] = await manager.query<{ open: number }[]>(
      `SELECT count(*)::int AS open FROM transfer_batch WHERE transfer_id = $1 AND state IN ${OPEN_BATCH_STATES}`,
      [transferId],
    );
    if (open > 0) return row;
    if (row.completed === row.total) await this.finish(manager, row, 'completed', null);
    else await this.finish(manager, row, 'failed', await this.describeRefusals(manager, row));
    return row;
  }

  /** Fails the transfer at once (a permanent failure); its open batches are cancelled. */
  async fail(manager: EntityManager, transferId: string, reason: string): Promise<void> {
    const row = await this.recount(manager, transferId);
    if (row.status !== 'queued' && row.status !== 'running') return;
    await this.closeOpenBatches(manager, transferId);
    await this.finish(manager, row, 'failed', reason);
  }

  async failActiveTransfersOf(manager: EntityManager, pacsConfigId: string, reason: string): Promise<void> {
    const active = await manager.query<{ id: string }[]>(
      `SELECT id FROM transfer WHERE pacs_config_id = $1 AND status IN ('queued', 'running')`,
      [pacsConfigId],
    );
    for (const { id } of active) await this.fail(manager, id, reason);
  }

  async closeOpenBatches(manager: EntityManager, transferId: string): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET state = 'cancelled', lease_until = NULL
        WHERE transfer_id = $1 AND state IN ${OPEN_BATCH_STATES}`,
      [transferId],
    );
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
      await manager.update(
        TransferBatch,
        { id: batch.id },
        { state: 'done', leaseUntil: null, lastError: reason, failures },
      );
      await this.fail(manager, batch.transferId, `${reason} (gave up after ${failures} attempts)`);
      return;
    }
    await manager.query(
      `UPDATE transfer_batch SET state = 'pending', lease_until = NULL, claimant = NULL, last_error = $2,
              failures = $3, available_at = now() + $4 * interval '1 millisecond'
        WHERE id = $1`,
      [batch.id, reason, failures, retryDelayMs(this.options, failures)],
    );
  }

  /**
   * A batch whose lease ran out (by the database's clock). Unclaimed: pending again at once, so
   * that dispatch sends it as a new attempt — waiting in a queue (a backlog, a broker outage) is
   * not a failure. Claimed: its run went silent — a failed attempt; the batch waits, dispatched
   * under the same attempt, for that run's command to come back to another worker.
   */
  async takeBackExpired(manager: EntityManager, batchId: string): Promise<void> {
    const batch = await this.lockBatch(manager, batchId);
    if (batch) await this.expireLease(manager, batch);
  }

  /** takeBackExpired for a batch the caller locked (a claim that finds its holder silent). */
  async expireLease(manager: EntityManager, batch: LockedBatch): Promise<void> {
    const decision = decideExpiry(batch, this.options);
    switch (decision.kind) {
      case 'none':
        return;
      case 'dispatch-again':
        await manager.query(
          `UPDATE transfer_batch SET state = 'pending', lease_until = NULL, claimant = NULL,
                  last_error = $2, available_at = now()
            WHERE id = $1`,
          [batch.id, decision.reason],
        );
        return;
      case 'reopen':
        await this.reopen(manager, batch, decision.reason);
        return;
      case 'give-up':
        await manager.update(
          TransferBatch,
          { id: batch.id },
          { state: 'done', leaseUntil: null, lastError: decision.reason, failures: batch.failures + 1 },
        );
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
    await manager.query(
      `UPDATE transfer_batch SET state = 'dispatched', failures = $2, last_error = $3,
              lease_until = now() + $4 * interval '1 millisecond'
        WHERE id = $1`,
      [batch.id, batch.failures + 1, reason, this.options.dispatchLeaseMs],
    );
  }

  private async finish(
    manager: EntityManager,
    row: Transfer,
    status: 'completed' | 'failed' | 'cancelled',
    error: string | null,
  ): Promise<void> {
    const now = new Date();
    Object.assign(row, { status, error, finishedAt: now, updatedAt: now });
    await manager.update(Transfer, { id: row.id }, { status, error, finishedAt: now, updatedAt: now });
    const contract =
      status === 'completed'
        ? TransferEvents.Completed
        : status === 'failed'
          ? TransferEvents.Failed
          : TransferEvents.Cancelled;
    await this.emit(manager, contract, row);
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
    await this.closeOpenBatches(manager, row.id);
    await this.finish(manager, row, 'cancelled', null);
  }

  private async describeRefusals(manager: EntityManager, row: Transfer): Promise<string> {
    const refused = await manager.query<{ uid: string; reason: string | null }[]>(
      `SELECT sop_instance_uid AS uid, reason FROM transfer_instance
        WHERE transfer_id = $1 AND status = 'failure' ORDER BY sop_instance_uid LIMIT $2`,
      [row.id, NAMED_FAILURES],
    );
    const unsent = row.total - row.completed - row.failed;
    const parts: string[] = [];
    if (row.failed > 0) {
      const named = refused.map((r) => `${r.uid} (${r.reason ?? 'no reason given'})`).join('; ');
      const more = row.failed > refused.length ? `; and ${row.failed - refused.length} more` : '';
      parts.push(`the PACS refused ${row.failed} of ${row.total} instances: ${named}${more}`);
    }
    if (unsent > 0) parts.push(`${unsent} of ${row.total} instances got no answer from the PACS`);
    return `${parts.join('; ')} — GET /api/v1/transfers/${row.id}/instances?status=failure lists them`;
  }
}
