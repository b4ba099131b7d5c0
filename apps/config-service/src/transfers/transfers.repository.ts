import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type {
  InstanceOutcomeData,
  TransferDirection,
  TransferMethod,
  TransferStatus,
} from '@pacslink/contracts';
import type { BatchSnapshot } from './batch-transitions';
import type { ListTransferInstancesQuery, ListTransfersQuery } from './dto/list-transfers.query';
import { TransferBatch, type TransferBatchState } from './transfer-batch.entity';
import { TransferInstance, type TransferInstanceStatus } from './transfer-instance.entity';
import { Transfer } from './transfer.entity';

/** Serialises everything that changes the transfers of one PACS (see lockPacs). */
const PACS_LOCK_NAMESPACE = 'pacslink.transfer-dispatch:';

const OPEN_BATCH_STATES = `('pending', 'dispatched', 'running')`;

/** A batch row locked for the transaction, its lease judged by the database's clock. */
export type LockedBatch = TransferBatch & BatchSnapshot;

/** A held claim to answer: go when its batch now runs for the held run, else refused. */
export interface DecidedHeldClaim {
  id: string;
  state: TransferBatch['state'];
  replyTo: string;
  correlationId: string;
  go: boolean;
}

/** An instance as a new transfer lists it, from the study store's index. */
export interface InstanceToList {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  sizeBytes: number;
}

/** An instance to (re)plan batches for. */
export interface InstanceToSend {
  sopInstanceUid: string;
  sizeBytes: number;
}

/** How many transfers share a status, direction, method and PACS (the transfers gauge). */
export interface TransferCount {
  status: TransferStatus;
  direction: TransferDirection;
  method: TransferMethod;
  pacsConfigId: string;
  count: number;
}

/** A batch's lease: who claimed it and the PACS it belongs to. */
export interface BatchRef {
  id: string;
  pacsConfigId: string;
}

/**
 * The transfers feature's tables (transfer, transfer_batch, transfer_instance): the only place that
 * reads or writes them. Methods taking a manager run in the caller's transaction, which holds the
 * PACS's lock (lockPacs) whenever it changes that PACS's batches. Every lease is written and judged
 * by the database's clock, never by a replica's own (which may run ahead or behind).
 */
@Injectable()
export class TransfersRepository {
  constructor(private readonly dataSource: DataSource) {}

  // ── locks ──────────────────────────────────────────────────────────────────────────────────

  /** Takes the PACS's transaction-scoped advisory lock for the rest of the transaction. */
  async lockPacs(manager: EntityManager, pacsConfigId: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      PACS_LOCK_NAMESPACE + pacsConfigId,
    ]);
  }

  /** The transfer, locked until the transaction ends. */
  async lockTransfer(manager: EntityManager, transferId: string): Promise<Transfer> {
    return manager
      .getRepository(Transfer)
      .createQueryBuilder('transfer')
      .setLock('pessimistic_write')
      .where('transfer.id = :transferId', { transferId })
      .getOneOrFail();
  }

  /** The batch, locked until the transaction ends, with whether its lease is live; undefined if none. */
  async lockBatch(manager: EntityManager, batchId: string): Promise<LockedBatch | undefined> {
    const [row] = await manager.query<Record<string, unknown>[]>(
      `SELECT id, transfer_id, pacs_config_id, seq, kind, state, attempt, claimant, failures, available_at,
              lease_until, last_error, awaiting_arrivals, held_by, held_reply_to, held_correlation_id, held_at,
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
      kind: row.kind as LockedBatch['kind'],
      awaitingArrivals: row.awaiting_arrivals as boolean,
      state: row.state as LockedBatch['state'],
      attempt: row.attempt as number,
      claimant: row.claimant as string | null,
      failures: row.failures as number,
      availableAt: row.available_at as Date,
      leaseUntil: row.lease_until as Date | null,
      lastError: row.last_error as string | null,
      heldBy: row.held_by as string | null,
      heldReplyTo: row.held_reply_to as string | null,
      heldCorrelationId: row.held_correlation_id as string | null,
      heldAt: row.held_at as Date | null,
      leaseLive: row.lease_live as boolean,
      leaseRemainingMs: (row.lease_remaining_ms as number | null) ?? 0,
    };
  }

  // ── reads for the API and the reports ─────────────────────────────────────────────────────

  findTransfer(transferId: string): Promise<Transfer | null> {
    return this.dataSource.getRepository(Transfer).findOneBy({ id: transferId });
  }

  findByIdempotencyKey(createdBy: string, idempotencyKey: string): Promise<Transfer | null> {
    return this.dataSource.getRepository(Transfer).findOneBy({ createdBy, idempotencyKey });
  }

  /** A page of transfers, newest first. */
  listTransfers(query: ListTransfersQuery): Promise<[Transfer[], number]> {
    return this.dataSource.getRepository(Transfer).findAndCount({
      where: {
        ...(query.status ? { status: query.status } : {}),
        ...(query.pacsConfigId ? { pacsConfigId: query.pacsConfigId } : {}),
        ...(query.direction ? { direction: query.direction } : {}),
      },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: query.limit,
      skip: query.offset,
    });
  }

  /** A page of a transfer's instances, in sending order. */
  listInstances(
    transferId: string,
    query: ListTransferInstancesQuery,
  ): Promise<[TransferInstance[], number]> {
    return this.dataSource.getRepository(TransferInstance).findAndCount({
      where: { transferId, ...(query.status ? { status: query.status } : {}) },
      order: { seriesInstanceUid: 'ASC', sopInstanceUid: 'ASC' },
      take: query.limit,
      skip: query.offset,
    });
  }

  /** The study a transfer moves; undefined when there is no such transfer. */
  async studyOf(transferId: string): Promise<string | undefined> {
    const transfer = await this.dataSource
      .getRepository(Transfer)
      .findOne({ where: { id: transferId }, select: { id: true, studyInstanceUid: true } });
    return transfer?.studyInstanceUid;
  }

  /** The batch a claim or report names, with its PACS (unlocked: to take the PACS's lock first). */
  async findBatchRef(ref: { batchId: string; transferId: string }): Promise<BatchRef | undefined> {
    const found = await this.dataSource.getRepository(TransferBatch).findOne({
      where: { id: ref.batchId, transferId: ref.transferId },
      select: { id: true, pacsConfigId: true },
    });
    return found ?? undefined;
  }

  // ── creating and retrying a transfer ──────────────────────────────────────────────────────

  async insertTransfer(manager: EntityManager, transfer: Transfer): Promise<void> {
    await manager.insert(Transfer, transfer);
  }

  /** Inserts pending batches with these ids, numbered from `firstSeq`. */
  async insertBatches(
    manager: EntityManager,
    transfer: Pick<Transfer, 'id' | 'pacsConfigId'>,
    batchIds: readonly string[],
    firstSeq: number,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO transfer_batch (id, transfer_id, pacs_config_id, seq, state)
       SELECT id, $2, $3, $4 + ordinality - 1, 'pending' FROM unnest($1::uuid[]) WITH ORDINALITY AS b(id)`,
      [batchIds, transfer.id, transfer.pacsConfigId, firstSeq],
    );
  }

  /** Lists a new transfer's instances, each in its batch (`batchIds[i]` for `instances[i]`). */
  async insertInstances(
    manager: EntityManager,
    transferId: string,
    instances: readonly InstanceToList[],
    batchIds: readonly string[],
  ): Promise<void> {
    await manager.query(
      `INSERT INTO transfer_instance (transfer_id, sop_instance_uid, batch_id, series_instance_uid,
                                      sop_class_uid, transfer_syntax_uid, size_bytes)
       SELECT $1, p.* FROM unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bigint[])
           AS p(sop_instance_uid, batch_id, series_instance_uid, sop_class_uid, transfer_syntax_uid, size_bytes)`,
      [
        transferId,
        instances.map((i) => i.sopInstanceUid),
        batchIds,
        instances.map((i) => i.seriesInstanceUid),
        instances.map((i) => i.sopClassUid),
        instances.map((i) => i.transferSyntaxUid),
        instances.map((i) => i.sizeBytes),
      ],
    );
  }

  /** The instances the PACS has not accepted (no answer, or refused), in sending order. */
  instancesToResend(manager: EntityManager, transferId: string): Promise<InstanceToSend[]> {
    return manager.query<InstanceToSend[]>(
      `SELECT sop_instance_uid AS "sopInstanceUid", size_bytes::float8 AS "sizeBytes"
         FROM transfer_instance WHERE transfer_id = $1 AND status IN ('pending', 'failure')
        ORDER BY series_instance_uid COLLATE "C", sop_instance_uid COLLATE "C"`,
      [transferId],
    );
  }

  /** The seq the transfer's next batch gets. */
  async nextBatchSeq(manager: EntityManager, transferId: string): Promise<number> {
    const [{ next }] = await manager.query<{ next: number }[]>(
      `SELECT coalesce(max(seq) + 1, 0)::int AS next FROM transfer_batch WHERE transfer_id = $1`,
      [transferId],
    );
    return next;
  }

  /** Moves these instances into new batches (`batchIds[i]` for `sopInstanceUids[i]`), unanswered again. */
  async reassignInstances(
    manager: EntityManager,
    transferId: string,
    sopInstanceUids: readonly string[],
    batchIds: readonly string[],
  ): Promise<void> {
    await manager.query(
      `UPDATE transfer_instance i SET batch_id = p.batch_id, status = 'pending', status_code = NULL, reason = NULL
         FROM unnest($2::text[], $3::uuid[]) AS p(sop_instance_uid, batch_id)
        WHERE i.transfer_id = $1 AND i.sop_instance_uid = p.sop_instance_uid`,
      [transferId, sopInstanceUids, batchIds],
    );
  }

  /** A failed or cancelled transfer queued again by POST /retry. */
  async markQueuedAgain(manager: EntityManager, transferId: string, retries: number): Promise<void> {
    await manager.update(
      Transfer,
      { id: transferId },
      { status: 'queued', retries, error: null, finishedAt: null, updatedAt: new Date() },
    );
  }

  // ── dispatch and the sweep ────────────────────────────────────────────────────────────────

  /** How many of the PACS's batches are out (dispatched or running). */
  async countBatchesOut(manager: EntityManager, pacsConfigId: string): Promise<number> {
    const [{ busy }] = await manager.query<{ busy: number }[]>(
      `SELECT count(*)::int AS busy FROM transfer_batch
        WHERE pacs_config_id = $1 AND state IN ('dispatched', 'running')`,
      [pacsConfigId],
    );
    return busy;
  }

  /** How many of the PACS's batches are running: the associations (or requests) open now. */
  async countBatchesRunning(manager: EntityManager, pacsConfigId: string): Promise<number> {
    const [{ running }] = await manager.query<{ running: number }[]>(
      `SELECT count(*)::int AS running FROM transfer_batch WHERE pacs_config_id = $1 AND state = 'running'`,
      [pacsConfigId],
    );
    return running;
  }

  /**
   * `claimant`'s claim of the dispatched batch waits for a slot, its answer going to `address`
   * (a later claim replaces an earlier one); a claim asked again renews the dispatch lease.
   */
  async holdClaim(
    manager: EntityManager,
    batchId: string,
    claim: { claimant: string; replyTo: string; correlationId: string; dispatchLeaseMs: number },
  ): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET held_by = $2, held_reply_to = $3, held_correlation_id = $4,
              held_at = coalesce(held_at, now()),
              lease_until = greatest(lease_until, now() + $5 * interval '1 millisecond')
        WHERE id = $1`,
      [batchId, claim.claimant, claim.replyTo, claim.correlationId, claim.dispatchLeaseMs],
    );
  }

  /** Up to `limit` of the PACS's held claims, oldest first. */
  async heldClaims(manager: EntityManager, pacsConfigId: string, limit: number): Promise<string[]> {
    const rows = await manager.query<{ id: string }[]>(
      `SELECT id FROM transfer_batch
        WHERE pacs_config_id = $1 AND state = 'dispatched' AND held_by IS NOT NULL
        ORDER BY held_at LIMIT $2`,
      [pacsConfigId, limit],
    );
    return rows.map(({ id }) => id);
  }

  /**
   * Held claims that are decided (granted: the batch runs; or the batch closed, went back or was
   * dispatched again) and not answered yet, with what to answer.
   */
  decidedHeldClaims(): Promise<DecidedHeldClaim[]> {
    return this.dataSource.query<DecidedHeldClaim[]>(
      `SELECT id, state, held_reply_to AS "replyTo", held_correlation_id AS "correlationId",
              (state = 'running' AND claimant = held_by) AS go
         FROM transfer_batch WHERE held_by IS NOT NULL AND state <> 'dispatched'`,
    );
  }

  /** The held claim was answered (unless it was replaced since). */
  async clearHeldClaim(batchId: string, correlationId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE transfer_batch SET held_by = NULL, held_reply_to = NULL, held_correlation_id = NULL, held_at = NULL
        WHERE id = $1 AND held_correlation_id = $2`,
      [batchId, correlationId],
    );
  }

  /** Up to `limit` of the PACS's pending batches that may go now, oldest transfer first. */
  async nextDispatchableBatches(
    manager: EntityManager,
    pacsConfigId: string,
    limit: number,
  ): Promise<Pick<TransferBatch, 'id' | 'kind'>[]> {
    return manager.query<Pick<TransferBatch, 'id' | 'kind'>[]>(
      `SELECT b.id, b.kind FROM transfer_batch b JOIN transfer t ON t.id = b.transfer_id
        WHERE b.pacs_config_id = $1 AND b.state = 'pending' AND b.available_at <= now()
          AND t.status IN ('queued', 'running')
        ORDER BY t.created_at, b.seq LIMIT $2`,
      [pacsConfigId, limit],
    );
  }

  findBatch(manager: EntityManager, batchId: string): Promise<TransferBatch> {
    return manager.findOneByOrFail(TransferBatch, { id: batchId });
  }

  /** The batch's instances without an answer, in sending order. */
  async unansweredInstancesOf(manager: EntityManager, batchId: string): Promise<string[]> {
    const pending = await manager.query<{ sopInstanceUid: string }[]>(
      `SELECT sop_instance_uid AS "sopInstanceUid" FROM transfer_instance
        WHERE batch_id = $1 AND status = 'pending'
        ORDER BY series_instance_uid COLLATE "C", sop_instance_uid COLLATE "C"`,
      [batchId],
    );
    return pending.map(({ sopInstanceUid }) => sopInstanceUid);
  }

  /** How many of the batch's instances have no answer yet. */
  async countUnanswered(manager: EntityManager, batchId: string): Promise<number> {
    const [{ n }] = await manager.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM transfer_instance WHERE batch_id = $1 AND status = 'pending'`,
      [batchId],
    );
    return n;
  }

  /** The batch's command went to the outbox as `attempt`; unclaimed, it is taken back after `dispatchLeaseMs`. */
  async markBatchDispatched(
    manager: EntityManager,
    batchId: string,
    attempt: number,
    dispatchLeaseMs: number,
  ): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET state = 'dispatched', attempt = $2, claimant = NULL, awaiting_arrivals = false,
              lease_until = now() + $3 * interval '1 millisecond',
              held_by = NULL, held_reply_to = NULL, held_correlation_id = NULL, held_at = NULL
        WHERE id = $1`,
      [batchId, attempt, dispatchLeaseMs],
    );
  }

  /**
   * The batch is closed for good: every instance answered, or its transfer fails (then with the
   * reason, and the failed attempt counted when there was one).
   */
  async markBatchDone(
    manager: EntityManager,
    batchId: string,
    ending: { lastError?: string; failures?: number } = {},
  ): Promise<void> {
    await manager.update(TransferBatch, { id: batchId }, { state: 'done', leaseUntil: null, ...ending });
  }

  /** Batches whose lease ran out (by the database's clock), at most `limit`. */
  expiredLeases(limit: number): Promise<BatchRef[]> {
    return this.dataSource.query<BatchRef[]>(
      `SELECT id, pacs_config_id AS "pacsConfigId" FROM transfer_batch
        WHERE state IN ('dispatched', 'running') AND lease_until < now() LIMIT $1`,
      [limit],
    );
  }

  /** The PACS with a pending batch of an active transfer that may go now. */
  async pacsWithDispatchableBatches(): Promise<string[]> {
    const rows = await this.dataSource.query<{ pacsConfigId: string }[]>(
      `SELECT DISTINCT b.pacs_config_id AS "pacsConfigId" FROM transfer_batch b
         JOIN transfer t ON t.id = b.transfer_id
        WHERE b.state = 'pending' AND b.available_at <= now() AND t.status IN ('queued', 'running')`,
    );
    return rows.map(({ pacsConfigId }) => pacsConfigId);
  }

  /** The PACS with a running batch. */
  async pacsWithRunningBatches(): Promise<string[]> {
    const rows = await this.dataSource.query<{ pacsConfigId: string }[]>(
      `SELECT DISTINCT pacs_config_id AS "pacsConfigId" FROM transfer_batch WHERE state = 'running'`,
    );
    return rows.map(({ pacsConfigId }) => pacsConfigId);
  }

  // ── claims, leases and retries of a batch ─────────────────────────────────────────────────

  /** `claimant` holds the batch's attempt now: running, leased for `leaseMs` from now. */
  async leaseBatch(
    manager: EntityManager,
    batchId: string,
    claimant: string,
    leaseMs: number,
  ): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET state = 'running', claimant = $2,
              lease_until = now() + $3 * interval '1 millisecond'
        WHERE id = $1`,
      [batchId, claimant, leaseMs],
    );
  }

  /** Every running lease of the PACS runs at least `leaseMs` from now. */
  async extendRunningLeases(manager: EntityManager, pacsConfigId: string, leaseMs: number): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET lease_until = greatest(lease_until, now() + $2 * interval '1 millisecond')
        WHERE pacs_config_id = $1 AND state = 'running'`,
      [pacsConfigId, leaseMs],
    );
  }

  /** A failed attempt: pending again once `delayMs` passed, nobody holding it. */
  async retryBatchLater(
    manager: EntityManager,
    batchId: string,
    failure: { reason: string; failures: number; delayMs: number },
  ): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET state = 'pending', lease_until = NULL, claimant = NULL, last_error = $2,
              failures = $3, available_at = now() + $4 * interval '1 millisecond'
        WHERE id = $1`,
      [batchId, failure.reason, failure.failures, failure.delayMs],
    );
  }

  /** Nobody claimed the command: pending again at once, for dispatch to send as a new attempt. */
  async dispatchBatchAgain(manager: EntityManager, batchId: string, reason: string): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET state = 'pending', lease_until = NULL, claimant = NULL,
              last_error = $2, available_at = now()
        WHERE id = $1`,
      [batchId, reason],
    );
  }

  /** The holder's attempt failed; the same attempt is claimable again for `dispatchLeaseMs`. */
  async reopenBatch(
    manager: EntityManager,
    batchId: string,
    failure: { reason: string; failures: number; dispatchLeaseMs: number },
  ): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET state = 'dispatched', failures = $2, last_error = $3,
              lease_until = now() + $4 * interval '1 millisecond'
        WHERE id = $1`,
      [batchId, failure.failures, failure.reason, failure.dispatchLeaseMs],
    );
  }

  /** The transfer's batches not closed yet are cancelled. */
  async cancelOpenBatches(manager: EntityManager, transferId: string): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET state = 'cancelled', lease_until = NULL
        WHERE transfer_id = $1 AND state IN ${OPEN_BATCH_STATES}`,
      [transferId],
    );
  }

  /** How many of the transfer's batches are not closed yet. */
  async countOpenBatches(manager: EntityManager, transferId: string): Promise<number> {
    const [{ open }] = await manager.query<{ open: number }[]>(
      `SELECT count(*)::int AS open FROM transfer_batch WHERE transfer_id = $1 AND state IN ${OPEN_BATCH_STATES}`,
      [transferId],
    );
    return open;
  }

  // ── outcomes and the transfer's state ─────────────────────────────────────────────────────

  /**
   * Records what the PACS answered for instances of `batchId`; a repeated report changes nothing.
   * An instance the PACS accepted stays accepted: a later refusal (a resend of the same attempt by
   * another run) does not take it back from the PACS.
   */
  async recordOutcomes(
    manager: EntityManager,
    transferId: string,
    batchId: string,
    outcomes: readonly InstanceOutcomeData[],
  ): Promise<void> {
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

  /** How many of the transfer's instances have each status (statuses without one are absent). */
  async countInstancesByStatus(
    manager: EntityManager,
    transferId: string,
  ): Promise<Partial<Record<TransferInstanceStatus, number>>> {
    const counts = await manager.query<{ status: TransferInstanceStatus; n: number }[]>(
      `SELECT status, count(*)::int AS n FROM transfer_instance WHERE transfer_id = $1 GROUP BY status`,
      [transferId],
    );
    return Object.fromEntries(counts.map(({ status, n }) => [status, n]));
  }

  async saveCounts(
    manager: EntityManager,
    row: Pick<Transfer, 'id' | 'completed' | 'warning' | 'failed' | 'updatedAt'>,
  ): Promise<void> {
    const { completed, warning, failed, updatedAt } = row;
    await manager.update(Transfer, { id: row.id }, { completed, warning, failed, updatedAt });
  }

  async markProgressPublished(manager: EntityManager, transferId: string, at: Date): Promise<void> {
    await manager.update(Transfer, { id: transferId }, { progressPublishedAt: at });
  }

  /** The first claim of a queued transfer: it runs. */
  async markTransferStarted(
    manager: EntityManager,
    transferId: string,
    change: { attempts: number; at: Date },
  ): Promise<void> {
    await manager.update(
      Transfer,
      { id: transferId },
      { status: 'running', attempts: change.attempts, startedAt: change.at, updatedAt: change.at },
    );
  }

  async saveAttempts(manager: EntityManager, transferId: string, attempts: number): Promise<void> {
    await manager.update(Transfer, { id: transferId }, { attempts });
  }

  async markTransferFinished(
    manager: EntityManager,
    transferId: string,
    end: { status: 'completed' | 'failed' | 'cancelled'; error: string | null; at: Date },
  ): Promise<void> {
    const { status, error, at } = end;
    await manager.update(Transfer, { id: transferId }, { status, error, finishedAt: at, updatedAt: at });
  }

  /** The PACS's queued and running transfers (of one direction only, when given). */
  async activeTransfersOf(
    manager: EntityManager,
    pacsConfigId: string,
    direction?: TransferDirection,
  ): Promise<string[]> {
    const active = await manager.query<{ id: string }[]>(
      `SELECT id FROM transfer WHERE pacs_config_id = $1 AND status IN ('queued', 'running')
          AND ($2::text IS NULL OR direction = $2)`,
      [pacsConfigId, direction ?? null],
    );
    return active.map(({ id }) => id);
  }

  /** The PACS's active transfers with no batch out: waiting for it, oldest first. */
  async transfersWaitingFor(manager: EntityManager, pacsConfigId: string): Promise<string[]> {
    const waiting = await manager.query<{ id: string }[]>(
      `SELECT t.id FROM transfer t
        WHERE t.pacs_config_id = $1 AND t.status IN ('queued', 'running')
          AND NOT EXISTS (SELECT 1 FROM transfer_batch b
                           WHERE b.transfer_id = t.id AND b.state IN ('dispatched', 'running'))
        ORDER BY t.created_at`,
      [pacsConfigId],
    );
    return waiting.map(({ id }) => id);
  }

  // ── metrics (read at every scrape, outside any transaction) ──────────────────────────────

  /** The open batches (pending, dispatched, running) by PACS and state: the backlog. */
  openBatchCounts(): Promise<{ pacsConfigId: string; state: TransferBatchState; count: number }[]> {
    return this.dataSource.query(
      `SELECT pacs_config_id AS "pacsConfigId", state, count(*)::int AS count
         FROM transfer_batch WHERE state IN ${OPEN_BATCH_STATES}
        GROUP BY pacs_config_id, state`,
    );
  }

  /**
   * Transfers by status, direction, method and PACS: every queued or running one, and of the
   * finished ones those that finished in the last `finishedWithinSeconds` (the history is not read).
   */
  transferCounts(finishedWithinSeconds: number): Promise<TransferCount[]> {
    return this.dataSource.query(
      `SELECT status, direction, method, pacs_config_id AS "pacsConfigId", count(*)::int AS count
         FROM transfer
        WHERE status IN ('queued', 'running') OR finished_at > now() - make_interval(secs => $1)
        GROUP BY status, direction, method, pacs_config_id`,
      [finishedWithinSeconds],
    );
  }

  /** The first `limit` instances the PACS refused, by SOP Instance UID. */
  refusedInstances(
    manager: EntityManager,
    transferId: string,
    limit: number,
  ): Promise<{ uid: string; reason: string | null }[]> {
    return manager.query<{ uid: string; reason: string | null }[]>(
      `SELECT sop_instance_uid AS uid, reason FROM transfer_instance
        WHERE transfer_id = $1 AND status = 'failure' ORDER BY sop_instance_uid LIMIT $2`,
      [transferId, limit],
    );
  }
}
