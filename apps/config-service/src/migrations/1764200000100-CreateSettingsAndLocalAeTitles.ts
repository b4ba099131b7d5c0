import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The application's own AE titles and its settings (one row). The default calling AE title is a
 * foreign key to a local AE title, so the database itself refuses to delete the title in use as the
 * default, even when a DELETE and a PUT /settings race. `PACSLINK` is seeded so that the default
 * settings are valid out of the box.
 */
export class CreateSettingsAndLocalAeTitles1764200000100 implements MigrationInterface {
  name = 'CreateSettingsAndLocalAeTitles1764200000100';

  async up(db: QueryRunner): Promise<void> {
    // The CHECK repeats the API's rule (PS3.5 6.2, VR AE: 1-16 characters once leading and trailing
    // spaces are trimmed, printable ASCII other than backslash) as a last line of defence.
    await db.query(`
      CREATE TABLE local_ae_title (
        ae_title text PRIMARY KEY
          CONSTRAINT local_ae_title_ae_title_valid CHECK (
            char_length(ae_title) BETWEEN 1 AND 16
            AND ae_title ~ '^[\\x20-\\x5B\\x5D-\\x7E]+$'
            AND ae_title !~ '^ | $'
          ),
        description text
          CONSTRAINT local_ae_title_description_length CHECK (char_length(description) <= 256),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Unique case-insensitively: two simultaneous POSTs of "Foo" and "FOO" give one 201 and one 409.
    await db.query(`CREATE UNIQUE INDEX local_ae_title_lower_key ON local_ae_title (lower(ae_title))`);
    await db.query(`
      INSERT INTO local_ae_title (ae_title, description)
      VALUES ('PACSLINK', 'the default calling AE title, created at installation')`);
    await db.query(`
      CREATE TABLE settings (
        id smallint PRIMARY KEY DEFAULT 1 CONSTRAINT settings_single_row CHECK (id = 1),
        allow_transfer boolean NOT NULL DEFAULT false,
        default_calling_ae_title text NOT NULL
          CONSTRAINT settings_default_calling_ae_title_fkey
          REFERENCES local_ae_title (ae_title) ON DELETE RESTRICT,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      INSERT INTO settings (id, allow_transfer, default_calling_ae_title) VALUES (1, false, 'PACSLINK')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE settings`);
    await db.query(`DROP TABLE local_ae_title`);
  }
}
