import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The worklist's scheduled procedure steps as tasks. `step_key` is the natural key within a PACS
 * configuration (see worklist-step-key.ts): a refreshed query updates the row it keys, never adds
 * a second one, and leaves its status alone.
 */
export class CreateWorklistTasks1765000000000 implements MigrationInterface {
  name = 'CreateWorklistTasks1765000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE worklist_task (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pacs_config_id uuid NOT NULL,
        step_key text NOT NULL,
        status text NOT NULL DEFAULT 'scheduled'
          CHECK (status IN ('scheduled', 'in-progress', 'completed', 'discontinued')),
        patient_name text,
        patient_id text,
        patient_birth_date text,
        patient_sex text,
        accession_number text,
        requested_procedure_id text,
        requested_procedure_description text,
        study_instance_uid text,
        scheduled_procedure_step_id text,
        scheduled_procedure_step_description text,
        modality text,
        scheduled_station_ae_title text,
        scheduled_start_date text,
        scheduled_start_time text,
        warnings jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT worklist_task_step UNIQUE (pacs_config_id, step_key)
      )`);
    await db.query(
      `CREATE INDEX worklist_task_listing ON worklist_task (status, scheduled_start_date, scheduled_start_time)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE worklist_task`);
  }
}
