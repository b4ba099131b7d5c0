import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Import on the transfer machinery (ADR 0008). A batch has a kind: `send` (export), `plan` (the
 * worker lists what the PACS holds of the study) or `retrieve` (the worker brings those instances
 * into the study store). `awaiting_arrivals`: a C-MOVE retrieve batch whose run has ended and whose
 * instances still come through the Storage SCP; it stays running with its lease until they have.
 * `transfer.fallback`: why an import's C-GET gave way to C-MOVE. An import's instances are listed
 * before their files exist: transfer syntax '' and size 0 until each is stored.
 */
export class AddImportTransfers1764800000000 implements MigrationInterface {
  name = 'AddImportTransfers1764800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE transfer ADD COLUMN fallback text`);
    await db.query(`
      ALTER TABLE transfer_batch
        ADD COLUMN kind text NOT NULL DEFAULT 'send' CHECK (kind IN ('send', 'plan', 'retrieve')),
        ADD COLUMN awaiting_arrivals boolean NOT NULL DEFAULT false`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE transfer_batch DROP COLUMN awaiting_arrivals, DROP COLUMN kind`);
    await db.query(`ALTER TABLE transfer DROP COLUMN fallback`);
  }
}
