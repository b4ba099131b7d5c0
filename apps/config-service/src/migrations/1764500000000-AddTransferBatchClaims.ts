import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claims name their run, and failures are counted apart from dispatches (ADR 0006, amendment of
 * issue 10): `claimant` is the worker run that holds (or last held) the batch's current attempt, so
 * a redelivered copy of its command waits instead of starting a second sender; `failures` counts
 * the attempts that failed (the TRANSFER_MAX_ATTEMPTS bound), while `attempt` keeps counting
 * dispatches (what tells a stale command from the current one), which no longer cost an attempt.
 */
export class AddTransferBatchClaims1764500000000 implements MigrationInterface {
  name = 'AddTransferBatchClaims1764500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE transfer_batch
        ADD COLUMN claimant uuid,
        ADD COLUMN failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0)`);
    // Until now every attempt after the first followed a failure (or an unclaimed dispatch).
    await db.query(
      `UPDATE transfer_batch SET failures = greatest(attempt - 1, 0) WHERE state IN ('pending', 'dispatched', 'running')`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE transfer_batch DROP COLUMN failures, DROP COLUMN claimant`);
  }
}
