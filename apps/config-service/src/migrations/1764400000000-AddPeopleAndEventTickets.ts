import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * People, not only keys (OIDC): the audit names a person by `sub` (in `actor`) and by the token's
 * name claim. Event tickets let a browser's EventSource, which cannot send a header, open
 * GET /events: single-use and short-lived, kept as SHA-256 digests so that a read of the table
 * yields no usable ticket, and in Postgres so that any replica can redeem what another issued.
 */
export class AddPeopleAndEventTickets1764400000000 implements MigrationInterface {
  name = 'AddPeopleAndEventTickets1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE audit_entry ADD COLUMN actor_name text`);
    await db.query(`
      CREATE TABLE event_ticket (
        ticket_digest bytea PRIMARY KEY CHECK (octet_length(ticket_digest) = 32),
        actor_id text NOT NULL,
        actor_name text,
        roles text[] NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX event_ticket_expires_at ON event_ticket (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE event_ticket`);
    await db.query(`ALTER TABLE audit_entry DROP COLUMN actor_name`);
  }
}
