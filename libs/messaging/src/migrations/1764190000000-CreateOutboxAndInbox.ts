import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tables of the transactional outbox and the idempotent-consumer inbox, in the app's own schema. */
export class CreateOutboxAndInbox1764190000000 implements MigrationInterface {
  name = 'CreateOutboxAndInbox1764190000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE outbox_message (
        id uuid PRIMARY KEY,
        exchange text NOT NULL,
        routing_key text NOT NULL,
        envelope jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        available_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        sent_at timestamptz
      )`);
    await db.query(
      `CREATE INDEX outbox_message_pending ON outbox_message (available_at) WHERE sent_at IS NULL`,
    );
    await db.query(`
      CREATE TABLE inbox_message (
        consumer text NOT NULL,
        message_id text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE inbox_message`);
    await db.query(`DROP TABLE outbox_message`);
  }
}
