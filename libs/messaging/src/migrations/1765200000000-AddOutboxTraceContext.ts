import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The trace context of the transaction that wrote an outbox row (W3C headers), for the relay to
 * publish the message in that trace; NULL when tracing is off.
 */
export class AddOutboxTraceContext1765200000000 implements MigrationInterface {
  name = 'AddOutboxTraceContext1765200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE outbox_message ADD COLUMN trace_context jsonb`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE outbox_message DROP COLUMN trace_context`);
  }
}
