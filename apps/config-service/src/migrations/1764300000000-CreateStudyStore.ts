import type { MigrationInterface, QueryRunner } from 'typeorm';

/** PS3.5 9.1, repeated as a last line of defence: the store makes path segments of these. */
const UID = (column: string): string =>
  `CHECK (char_length(${column}) <= 64 AND ${column} ~ '^(0|[1-9][0-9]*)(\\.(0|[1-9][0-9]*))*$')`;

/**
 * The study store's index: one row per study (what listing shows) and one per instance (where its
 * file is). The files themselves live under STORE_DIR; a row is written only once its file is in place.
 */
export class CreateStudyStore1764300000000 implements MigrationInterface {
  name = 'CreateStudyStore1764300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE stored_study (
        study_instance_uid text PRIMARY KEY ${UID('study_instance_uid')},
        patient_name text,
        patient_id text,
        study_date text,
        accession_number text,
        study_description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(
      `CREATE INDEX stored_study_updated_at ON stored_study (updated_at DESC, study_instance_uid)`,
    );
    await db.query(`
      CREATE TABLE stored_instance (
        sop_instance_uid text PRIMARY KEY ${UID('sop_instance_uid')},
        study_instance_uid text NOT NULL REFERENCES stored_study ON DELETE CASCADE,
        series_instance_uid text NOT NULL ${UID('series_instance_uid')},
        sop_class_uid text NOT NULL ${UID('sop_class_uid')},
        transfer_syntax_uid text NOT NULL ${UID('transfer_syntax_uid')},
        size_bytes bigint NOT NULL CHECK (size_bytes > 0),
        path text NOT NULL,
        modality text,
        stored_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(
      `CREATE INDEX stored_instance_study_series ON stored_instance (study_instance_uid, series_instance_uid)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE stored_instance`);
    await db.query(`DROP TABLE stored_study`);
  }
}
