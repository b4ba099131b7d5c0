import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A transfer no longer keeps its instances' paths: a batch command carries the paths the study
 * store's index holds when the batch is dispatched, because a re-upload may replace an instance's
 * file while its transfer waits or retries (issue 10). A copy made at creation went stale.
 */
export class DropTransferInstancePath1764500000100 implements MigrationInterface {
  name = 'DropTransferInstancePath1764500000100';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE transfer_instance DROP COLUMN path`);
  }

  /** The paths come back from the index where the instance is still stored, else empty. */
  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE transfer_instance ADD COLUMN path text NOT NULL DEFAULT ''`);
    await db.query(
      `UPDATE transfer_instance t SET path = s.path FROM stored_instance s WHERE s.sop_instance_uid = t.sop_instance_uid`,
    );
    await db.query(`ALTER TABLE transfer_instance ALTER COLUMN path DROP DEFAULT`);
  }
}
