import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Partial indexes for the transfer gauges read at every scrape (transfer.metrics.ts): the open
 * batches, and the transfers that finished lately. Each scrape then reads what is open or recent,
 * however long the history grows.
 */
export class AddTransferMetricsIndexes1764900000500 implements MigrationInterface {
  name = 'AddTransferMetricsIndexes1764900000500';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX transfer_batch_open ON transfer_batch (pacs_config_id, state)
         WHERE state IN ('pending', 'dispatched', 'running')`,
    );
    await db.query(
      `CREATE INDEX transfer_finished_at ON transfer (finished_at) WHERE finished_at IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX transfer_finished_at`);
    await db.query(`DROP INDEX transfer_batch_open`);
  }
}
