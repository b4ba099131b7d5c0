import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  CLOSED_CIRCUIT,
  type CircuitChange,
  type CircuitSnapshot,
  type CircuitState,
} from './circuit-transitions';

/** A circuit as the API shows it. */
export interface CircuitView {
  state: CircuitState;
  failures: number;
  openedAt: Date | null;
  /** Open: when the next probe may go. */
  nextProbeAt: Date | null;
  lastError: string | null;
}

export const CLOSED_VIEW: CircuitView = {
  state: 'closed',
  failures: 0,
  openedAt: null,
  nextProbeAt: null,
  lastError: null,
};

const CLOSE = `state = 'closed', failures = 0, opened_at = NULL, probe_at = NULL, reopenings = 0,
               probe_batch_id = NULL, last_error = NULL, updated_at = now()`;

/**
 * pacs_circuit: one row per PACS configuration whose circuit ever counted a failure (none: closed).
 * Written under the PACS's transaction-scoped advisory lock (TransfersRepository.lockPacs), like
 * everything that changes its batches; every time in it is the database's clock.
 */
@Injectable()
export class PacsCircuitsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The PACS's circuit, its row locked until the transaction ends; CLOSED_CIRCUIT when it has none. */
  async lock(manager: EntityManager, pacsConfigId: string): Promise<CircuitSnapshot> {
    const [row] = await manager.query<Record<string, unknown>[]>(
      `SELECT state, failures, opened_at, reopenings, probe_batch_id, last_error,
              coalesce(probe_at <= now(), false) AS probe_due,
              EXISTS (SELECT 1 FROM transfer_batch b
                       WHERE b.id = c.probe_batch_id AND b.state IN ('dispatched', 'running')) AS probe_out,
              coalesce(greatest(0, ceil(extract(epoch FROM now() - opened_at) * 1000)), 0)::float8 AS open_for_ms
         FROM pacs_circuit c WHERE pacs_config_id = $1 FOR UPDATE`,
      [pacsConfigId],
    );
    if (!row) return CLOSED_CIRCUIT;
    return {
      state: row.state as CircuitState,
      failures: row.failures as number,
      openedAt: row.opened_at as Date | null,
      reopenings: row.reopenings as number,
      probeBatchId: row.probe_batch_id as string | null,
      lastError: row.last_error as string | null,
      probeDue: row.probe_due as boolean,
      probeOut: row.probe_out as boolean,
      openForMs: row.open_for_ms as number,
    };
  }

  /** Writes what decideAttempt decided (its times from the database's clock). */
  async apply(manager: EntityManager, pacsConfigId: string, change: CircuitChange): Promise<void> {
    switch (change.kind) {
      case 'none':
        return;
      case 'count':
        await manager.query(
          `INSERT INTO pacs_circuit (pacs_config_id, state, failures, last_error)
           VALUES ($1, 'closed', $2, $3)
           ON CONFLICT (pacs_config_id) DO UPDATE
             SET failures = EXCLUDED.failures, last_error = EXCLUDED.last_error, updated_at = now()`,
          [pacsConfigId, change.failures, change.lastError],
        );
        return;
      case 'open':
        await manager.query(
          `INSERT INTO pacs_circuit (pacs_config_id, state, failures, reopenings, last_error, opened_at, probe_at)
           VALUES ($1, 'open', $2, $3, $4, now(), now() + $5 * interval '1 millisecond')
           ON CONFLICT (pacs_config_id) DO UPDATE
             SET state = 'open', failures = EXCLUDED.failures, reopenings = EXCLUDED.reopenings,
                 last_error = EXCLUDED.last_error, probe_at = EXCLUDED.probe_at, probe_batch_id = NULL,
                 opened_at = coalesce(pacs_circuit.opened_at, EXCLUDED.opened_at), updated_at = now()`,
          [pacsConfigId, change.failures, change.reopenings, change.lastError, change.coolDownMs],
        );
        return;
      case 'close':
      case 'reset':
        await this.close(manager, pacsConfigId);
        return;
    }
  }

  /** Half-open: `batchId` went out as the probe. */
  async probing(manager: EntityManager, pacsConfigId: string, batchId: string): Promise<void> {
    await manager.query(
      `UPDATE pacs_circuit SET state = 'half-open', probe_batch_id = $2, updated_at = now()
        WHERE pacs_config_id = $1`,
      [pacsConfigId, batchId],
    );
  }

  /**
   * Closed, and the PACS's batches waiting out a retry delay go at once: the delays grew while it
   * was unreachable. Answers the state it was in before.
   */
  async close(manager: EntityManager, pacsConfigId: string): Promise<CircuitState> {
    const [before] = await manager.query<{ state: CircuitState }[]>(
      `SELECT state FROM pacs_circuit WHERE pacs_config_id = $1 FOR UPDATE`,
      [pacsConfigId],
    );
    if (!before) return 'closed';
    await manager.query(`UPDATE pacs_circuit SET ${CLOSE} WHERE pacs_config_id = $1`, [pacsConfigId]);
    if (before.state !== 'closed') {
      await manager.query(
        `UPDATE transfer_batch SET available_at = now()
          WHERE pacs_config_id = $1 AND state = 'pending' AND available_at > now()`,
        [pacsConfigId],
      );
    }
    return before.state;
  }

  /**
   * PACS whose circuit has been open at least `waitMs`, is cooling down (see waitedTooLong), and
   * that have transfers waiting for it (active, no batch out).
   */
  async openLongerThan(waitMs: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT c.pacs_config_id AS id FROM pacs_circuit c
        WHERE c.state = 'open' AND c.probe_at > now() AND c.opened_at <= now() - $1 * interval '1 millisecond'
          AND EXISTS (SELECT 1 FROM transfer t
                       WHERE t.pacs_config_id = c.pacs_config_id AND t.status IN ('queued', 'running')
                         AND NOT EXISTS (SELECT 1 FROM transfer_batch b
                                          WHERE b.transfer_id = t.id AND b.state IN ('dispatched', 'running')))`,
      [waitMs],
    );
    return rows.map(({ id }) => id);
  }

  /** The circuits of these configurations, for the API (closed for those without a row). */
  async views(pacsConfigIds: readonly string[]): Promise<Map<string, CircuitView>> {
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `SELECT pacs_config_id, state, failures, opened_at, last_error,
              CASE WHEN state = 'open' THEN probe_at END AS next_probe_at
         FROM pacs_circuit WHERE pacs_config_id = ANY($1::uuid[])`,
      [pacsConfigIds],
    );
    const views = new Map<string, CircuitView>(pacsConfigIds.map((id) => [id, CLOSED_VIEW]));
    for (const row of rows) {
      views.set(row.pacs_config_id as string, {
        state: row.state as CircuitState,
        failures: row.failures as number,
        openedAt: row.opened_at as Date | null,
        nextProbeAt: row.next_probe_at as Date | null,
        lastError: row.last_error as string | null,
      });
    }
    return views;
  }

  /**
   * Whether each configuration's circuit is open or half-open, for the metric: within 2 s, so that
   * a scrape answers without it rather than waiting on a database that does not answer.
   */
  async openness(): Promise<{ pacsConfigId: string; open: boolean }[]> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SET LOCAL statement_timeout = 2000`);
      return manager.query<{ pacsConfigId: string; open: boolean }[]>(
        `SELECT p.id AS "pacsConfigId", coalesce(c.state <> 'closed', false) AS open
           FROM pacs_config p LEFT JOIN pacs_circuit c ON c.pacs_config_id = p.id`,
      );
    });
  }
}
