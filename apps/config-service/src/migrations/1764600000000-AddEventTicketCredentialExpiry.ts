import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An event stream must not outlive the credential that opened it: a ticket remembers when the
 * token it was issued for expires, so the stream it opens ends then too.
 */
export class AddEventTicketCredentialExpiry1764600000000 implements MigrationInterface {
  name = 'AddEventTicketCredentialExpiry1764600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE event_ticket ADD COLUMN credential_expires_at timestamptz`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE event_ticket DROP COLUMN credential_expires_at`);
  }
}
