import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { ImportInstanceData, TransferMethod } from '@pacslink/contracts';
import type { TransferBatchKind } from './transfer-batch.entity';
import type { Transfer } from './transfer.entity';

/** An import's instance with its batch and, when it is settled at once, its outcome. */
export interface PlannedInstance extends ImportInstanceData {
  batchId: string;
  status: 'pending' | 'success' | 'failure';
  reason: string | null;
}

/** An import's outcome for one instance; a stored one names its file's transfer syntax and size. */
export interface ImportOutcome {
  sopInstanceUid: string;
  status: 'success' | 'warning' | 'failure';
  statusCode?: number;
  reason?: string;
  file?: { transferSyntaxUid: string; sizeBytes: number };
}

/**
 * What import adds to the transfers feature's tables (TransfersRepository holds the rest): batches
 * of a kind, instances listed from a plan, outcomes of instances that arrived, the method switch.
 * Methods taking a manager run in the caller's transaction, which holds the PACS's lock (TransfersRepository.lockPacs).
 */
@Injectable()
export class ImportsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The study an import brings; undefined when the transfer is not an import (or none). */
  async studyOfImport(transferId: string): Promise<string | undefined> {
    const [row] = await this.dataSource.query<{ study: string }[]>(
      `SELECT study_instance_uid AS study FROM transfer WHERE id = $1 AND direction = 'import'`,
      [transferId],
    );
    return row?.study;
  }

  /** Inserts pending batches of `kind` with these ids, numbered from `firstSeq`. */
  async insertBatches(
    manager: EntityManager,
    transfer: Pick<Transfer, 'id' | 'pacsConfigId'>,
    kind: TransferBatchKind,
    batchIds: readonly string[],
    firstSeq: number,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO transfer_batch (id, transfer_id, pacs_config_id, seq, state, kind)
       SELECT id, $2, $3, $4 + ordinality - 1, 'pending', $5
         FROM unnest($1::uuid[]) WITH ORDINALITY AS b(id)`,
      [batchIds, transfer.id, transfer.pacsConfigId, firstSeq, kind],
    );
  }

  /**
   * Lists a plan's instances (transfer syntax and size unknown until each is stored) and sets the
   * transfer's total to their number.
   */
  async insertPlannedInstances(
    manager: EntityManager,
    transferId: string,
    instances: readonly PlannedInstance[],
  ): Promise<void> {
    await manager.query(
      `INSERT INTO transfer_instance (transfer_id, sop_instance_uid, batch_id, series_instance_uid,
                                      sop_class_uid, transfer_syntax_uid, size_bytes, status, reason)
       SELECT $1, p.sop_instance_uid, p.batch_id, p.series_instance_uid, p.sop_class_uid, '', 0, p.status, p.reason
         FROM unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
           AS p(sop_instance_uid, batch_id, series_instance_uid, sop_class_uid, status, reason)`,
      [
        transferId,
        instances.map((i) => i.sopInstanceUid),
        instances.map((i) => i.batchId),
        instances.map((i) => i.seriesInstanceUid),
        // '' where the PACS did not say the class (transfer_instance.sop_class_uid is NOT NULL).
        instances.map((i) => i.sopClassUid ?? ''),
        instances.map((i) => i.status),
        instances.map((i) => i.reason),
      ],
    );
    await manager.query(`UPDATE transfer SET total = $2, updated_at = now() WHERE id = $1`, [
      transferId,
      instances.length,
    ]);
  }

  /** The batch's instances without an outcome, as a retrieve command names them, in order. */
  async unansweredOf(manager: EntityManager, batchId: string): Promise<ImportInstanceData[]> {
    return classesSaid(
      await manager.query<ImportedRow[]>(
        `SELECT sop_instance_uid AS "sopInstanceUid", series_instance_uid AS "seriesInstanceUid",
              sop_class_uid AS "sopClassUid"
         FROM transfer_instance WHERE batch_id = $1 AND status = 'pending'
        ORDER BY series_instance_uid COLLATE "C", sop_instance_uid COLLATE "C"`,
        [batchId],
      ),
    );
  }

  /**
   * The series of which this batch holds every instance of its transfer, all still without an
   * outcome: the worker may retrieve those with one request at series level.
   */
  async wholeSeriesOf(manager: EntityManager, transferId: string, batchId: string): Promise<string[]> {
    const rows = await manager.query<{ series: string }[]>(
      `SELECT series_instance_uid AS series FROM transfer_instance
        WHERE transfer_id = $1 AND series_instance_uid IN
              (SELECT series_instance_uid FROM transfer_instance WHERE batch_id = $2)
        GROUP BY series_instance_uid
       HAVING bool_and(batch_id = $2 AND status = 'pending')
        ORDER BY series_instance_uid COLLATE "C"`,
      [transferId, batchId],
    );
    return rows.map(({ series }) => series);
  }

  /**
   * Records outcomes of the transfer's instances: of `batchId`'s only when one is given (a worker's
   * report), of any of its batches when not (the Storage SCP's arrivals). A stored instance stays
   * stored: a later failure (a resend of the same attempt by another run) does not undo it.
   * Answers the batches whose instances changed.
   */
  async recordOutcomes(
    manager: EntityManager,
    transferId: string,
    batchId: string | null,
    outcomes: readonly ImportOutcome[],
  ): Promise<string[]> {
    if (outcomes.length === 0) return [];
    // An UPDATE answers [rows, count] through TypeORM's query().
    const [rows] = await manager.query<[{ batchId: string }[], number]>(
      `UPDATE transfer_instance i
          SET status = o.status, status_code = o.status_code, reason = o.reason,
              transfer_syntax_uid = coalesce(o.transfer_syntax_uid, i.transfer_syntax_uid),
              size_bytes = coalesce(o.size_bytes, i.size_bytes)
         FROM unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::bigint[])
              AS o(sop_instance_uid, status, status_code, reason, transfer_syntax_uid, size_bytes)
        WHERE i.transfer_id = $1 AND ($2::uuid IS NULL OR i.batch_id = $2)
          AND i.sop_instance_uid = o.sop_instance_uid
          AND NOT (i.status IN ('success', 'warning') AND o.status = 'failure')
        RETURNING i.batch_id AS "batchId"`,
      [
        transferId,
        batchId,
        outcomes.map((o) => o.sopInstanceUid),
        outcomes.map((o) => o.status),
        outcomes.map((o) => o.statusCode ?? null),
        outcomes.map((o) => o.reason ?? null),
        outcomes.map((o) => o.file?.transferSyntaxUid ?? null),
        outcomes.map((o) => o.file?.sizeBytes ?? null),
      ],
    );
    return [...new Set(rows.map((row) => row.batchId))];
  }

  /** Every instance of the batch still without an outcome fails with `reason`. */
  async failUnanswered(manager: EntityManager, batchId: string, reason: string): Promise<void> {
    await manager.query(
      `UPDATE transfer_instance SET status = 'failure', reason = $2 WHERE batch_id = $1 AND status = 'pending'`,
      [batchId, reason],
    );
  }

  /** The instances of a failed or cancelled import that are not stored: what a retry fetches. */
  async instancesToFetch(manager: EntityManager, transferId: string): Promise<ImportInstanceData[]> {
    return classesSaid(
      await manager.query<ImportedRow[]>(
        `SELECT sop_instance_uid AS "sopInstanceUid", series_instance_uid AS "seriesInstanceUid",
              sop_class_uid AS "sopClassUid"
         FROM transfer_instance WHERE transfer_id = $1 AND status IN ('pending', 'failure')
        ORDER BY series_instance_uid COLLATE "C", sop_instance_uid COLLATE "C"`,
        [transferId],
      ),
    );
  }

  /** How many instances the import lists (none before its plan came back). */
  async countInstances(manager: EntityManager, transferId: string): Promise<number> {
    const [{ n }] = await manager.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM transfer_instance WHERE transfer_id = $1`,
      [transferId],
    );
    return n;
  }

  /** The import retrieves by `method` from now on (a C-GET gave way to C-MOVE: `fallback` says why). */
  async switchMethod(
    manager: EntityManager,
    transferId: string,
    change: { method: TransferMethod; fallback: string | null },
  ): Promise<void> {
    await manager.query(`UPDATE transfer SET method = $2, fallback = $3, updated_at = now() WHERE id = $1`, [
      transferId,
      change.method,
      change.fallback,
    ]);
  }

  /** The batch's run ended; it stays running, leased for `leaseMs`, until its instances arrive. */
  async awaitArrivals(manager: EntityManager, batchId: string, leaseMs: number): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET awaiting_arrivals = true,
              lease_until = now() + $2 * interval '1 millisecond'
        WHERE id = $1`,
      [batchId, leaseMs],
    );
  }

  /** A waiting batch heard from the Storage SCP: its lease runs `leaseMs` from now. */
  async renewArrivalLease(manager: EntityManager, batchId: string, leaseMs: number): Promise<void> {
    await manager.query(
      `UPDATE transfer_batch SET lease_until = now() + $2 * interval '1 millisecond' WHERE id = $1`,
      [batchId, leaseMs],
    );
  }

  /** The PACS's queued or running imports of the study, oldest first. */
  async activeImportsOf(
    manager: EntityManager,
    pacsConfigId: string,
    studyInstanceUid: string,
  ): Promise<string[]> {
    const rows = await manager.query<{ id: string }[]>(
      `SELECT id FROM transfer
        WHERE pacs_config_id = $1 AND study_instance_uid = $2 AND direction = 'import'
          AND status IN ('queued', 'running')
        ORDER BY created_at`,
      [pacsConfigId, studyInstanceUid],
    );
    return rows.map(({ id }) => id);
  }
}

type ImportedRow = Omit<ImportInstanceData, 'sopClassUid'> & { sopClassUid: string };

/** Rows as a retrieve command names them: no `sopClassUid` where the plan had none (stored ''). */
function classesSaid(rows: readonly ImportedRow[]): ImportInstanceData[] {
  return rows.map(({ sopClassUid, ...instance }) =>
    sopClassUid === '' ? instance : { ...instance, sopClassUid },
  );
}
