import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A circuit per PACS configuration (ADR 0006, "A circuit per PACS"): kept in Postgres because every
 * config-service replica dispatches, under the PACS's advisory lock, and all must see one state. A
 * configuration without a row has a closed circuit; deleting the configuration deletes its row.
 */
export class AddPacsCircuits1764700000300 implements MigrationInterface {
  name = 'AddPacsCircuits1764700000300';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE pacs_circuit (
        pacs_config_id uuid PRIMARY KEY REFERENCES pacs_config (id) ON DELETE CASCADE,
        state text NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half-open')),
        failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
        opened_at timestamptz,
        probe_at timestamptz,
        reopenings integer NOT NULL DEFAULT 0 CHECK (reopenings >= 0),
        probe_batch_id uuid,
        last_error text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((state = 'closed') = (opened_at IS NULL))
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE pacs_circuit`);
  }
}
