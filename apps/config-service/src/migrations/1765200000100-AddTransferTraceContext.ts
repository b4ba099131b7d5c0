import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The trace of the request that made a transfer, which its batch commands join; NULL without tracing. */
export class AddTransferTraceContext1765200000100 implements MigrationInterface {
  name = 'AddTransferTraceContext1765200000100';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE transfer ADD COLUMN trace_context jsonb`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE transfer DROP COLUMN trace_context`);
  }
}
