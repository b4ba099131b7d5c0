import type { MigrationInterface, QueryRunner } from 'typeorm';

const UID = (column: string): string =>
  `CHECK (char_length(${column}) <= 64 AND ${column} ~ '^(0|[1-9][0-9]*)(\\.(0|[1-9][0-9]*))*$')`;

/**
 * Transfers (docs/decisions/0006-transfers.md). A transfer is cut into batches, the unit a worker
 * claims, sends and reports on; `transfer_instance` holds each instance's outcome, so a retry resends
 * only what the PACS has not accepted and a redelivered report cannot count anything twice.
 * `pacs_config_id` is not a foreign key: a transfer's history outlives its configuration.
 */
export class CreateTransfers1764300000100 implements MigrationInterface {
  name = 'CreateTransfers1764300000100';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE transfer (
        id uuid PRIMARY KEY,
        direction text NOT NULL CHECK (direction IN ('export', 'import')),
        pacs_config_id uuid NOT NULL,
        pacs_ae_title text NOT NULL,
        study_instance_uid text NOT NULL ${UID('study_instance_uid')},
        series_instance_uid text ${UID('series_instance_uid')},
        status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
        method text NOT NULL CHECK (method IN ('STOW-RS', 'C-STORE', 'WADO-RS', 'C-GET', 'C-MOVE')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        retries integer NOT NULL DEFAULT 0 CHECK (retries >= 0),
        error text,
        total integer NOT NULL CHECK (total >= 0),
        completed integer NOT NULL DEFAULT 0 CHECK (completed >= 0),
        failed integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
        warning integer NOT NULL DEFAULT 0 CHECK (warning >= 0),
        created_by text NOT NULL,
        idempotency_key text CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
        request_fingerprint text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        progress_published_at timestamptz
      )`);
    await db.query(
      `CREATE UNIQUE INDEX transfer_idempotency_key ON transfer (created_by, idempotency_key)
         WHERE idempotency_key IS NOT NULL`,
    );
    await db.query(`CREATE INDEX transfer_created_at ON transfer (created_at DESC, id)`);
    await db.query(`CREATE INDEX transfer_pacs_config ON transfer (pacs_config_id, created_at DESC)`);
    await db.query(
      `CREATE INDEX transfer_active_study ON transfer (study_instance_uid) WHERE status IN ('queued', 'running')`,
    );

    await db.query(`
      CREATE TABLE transfer_batch (
        id uuid PRIMARY KEY,
        transfer_id uuid NOT NULL REFERENCES transfer (id) ON DELETE CASCADE,
        pacs_config_id uuid NOT NULL,
        seq integer NOT NULL CHECK (seq >= 0),
        state text NOT NULL CHECK (state IN ('pending', 'dispatched', 'running', 'done', 'cancelled')),
        attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
        available_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        last_error text,
        UNIQUE (transfer_id, seq)
      )`);
    await db.query(
      `CREATE INDEX transfer_batch_dispatch ON transfer_batch (pacs_config_id, state, available_at)`,
    );
    await db.query(
      `CREATE INDEX transfer_batch_lease ON transfer_batch (lease_until) WHERE state IN ('dispatched', 'running')`,
    );

    await db.query(`
      CREATE TABLE transfer_instance (
        transfer_id uuid NOT NULL REFERENCES transfer (id) ON DELETE CASCADE,
        sop_instance_uid text NOT NULL ${UID('sop_instance_uid')},
        batch_id uuid NOT NULL REFERENCES transfer_batch (id) ON DELETE CASCADE,
        series_instance_uid text NOT NULL,
        sop_class_uid text NOT NULL,
        transfer_syntax_uid text NOT NULL,
        path text NOT NULL,
        size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'success', 'warning', 'failure')),
        status_code integer,
        reason text,
        PRIMARY KEY (transfer_id, sop_instance_uid)
      )`);
    await db.query(`CREATE INDEX transfer_instance_batch ON transfer_instance (batch_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE transfer_instance`);
    await db.query(`DROP TABLE transfer_batch`);
    await db.query(`DROP TABLE transfer`);
  }
}
