import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A claim of a batch dispatched ahead, held until a slot of its PACS frees (ADR 0006, "The engine's
 * own cost"): the run and where its answer goes, so that whichever replica frees the slot answers.
 */
export class AddTransferBatchHeldClaims1765300000000 implements MigrationInterface {
  name = 'AddTransferBatchHeldClaims1765300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `ALTER TABLE transfer_batch ADD COLUMN held_by uuid, ADD COLUMN held_reply_to text,
         ADD COLUMN held_correlation_id text, ADD COLUMN held_at timestamptz`,
    );
    await db.query(
      `CREATE INDEX transfer_batch_held ON transfer_batch (pacs_config_id, held_at) WHERE held_by IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX transfer_batch_held`);
    await db.query(
      `ALTER TABLE transfer_batch DROP COLUMN held_by, DROP COLUMN held_reply_to,
         DROP COLUMN held_correlation_id, DROP COLUMN held_at`,
    );
  }
}
