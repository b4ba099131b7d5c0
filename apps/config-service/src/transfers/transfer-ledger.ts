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

  /** Records what the PACS answered for instances of `batchId`; a repeated report changes nothing. */
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
        WHERE i.transfer_id = $1 AND i.batch_id = $2 AND i.sop_instance_uid = o.sop_instance_uid`,
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
   * A batch stopped by something that can pass (refused, timeout, 5xx, a lost worker): it waits
   * out a growing delay and goes again, until `maxAttempts`; then its transfer fails.
   */
  async retryLater(manager: EntityManager, batch: TransferBatch, reason: string): Promise<void> {
    if (batch.attempt >= this.options.maxAttempts) {
      await manager.update(
        TransferBatch,
        { id: batch.id },
        { state: 'done', leaseUntil: null, lastError: reason },
      );
      await this.fail(manager, batch.transferId, `${reason} (gave up after ${batch.attempt} attempts)`);
      return;
    }
    await manager.update(
      TransferBatch,
      { id: batch.id },
      {
        state: 'pending',
        leaseUntil: null,
        lastError: reason,
        availableAt: new Date(Date.now() + retryDelayMs(this.options, batch.attempt)),
      },
    );
  }

  /** A batch whose lease ran out without a report: its worker is gone or stuck. */
  async takeBackExpired(manager: EntityManager, batchId: string, attempt: number): Promise<void> {
    const batch = await manager
      .getRepository(TransferBatch)
      .createQueryBuilder('batch')
      .setLock('pessimistic_write')
      .where('batch.id = :batchId', { batchId })
      .getOne();
    if (!batch || batch.attempt !== attempt || batch.leaseUntil === null || batch.leaseUntil > new Date())
      return;
    if (batch.state !== 'dispatched' && batch.state !== 'running') return;
    const seconds = Math.round(
      (batch.state === 'running' ? this.options.leaseMs : this.options.dispatchLeaseMs) / 1000,
    );
    await this.retryLater(
      manager,
      batch,
      batch.state === 'running'
        ? `the worker sending batch ${batch.seq + 1} stopped reporting for ${seconds} s`
        : `no worker took batch ${batch.seq + 1} within ${seconds} s — is the worker running?`,
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
