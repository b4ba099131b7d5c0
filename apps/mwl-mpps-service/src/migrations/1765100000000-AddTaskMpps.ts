import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A task's Modality Performed Procedure Step (PS3.4 F.7): our SOP Instance UID, the SCP's last
 * status with its meaning and note, and the retries of a pending N-SET COMPLETED (`completing`).
 * `mpps_performed_series` keeps what that N-SET sends so a retry sends the same.
 */
export class AddTaskMpps1765100000000 implements MigrationInterface {
  name = 'AddTaskMpps1765100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE worklist_task DROP CONSTRAINT worklist_task_status_check`);
    await db.query(`
      ALTER TABLE worklist_task
        ADD CONSTRAINT worklist_task_status_check
          CHECK (status IN ('scheduled', 'in-progress', 'completing', 'completed', 'discontinued')),
        ADD COLUMN mpps_sop_instance_uid text,
        ADD COLUMN mpps_status_code integer,
        ADD COLUMN mpps_status_meaning text,
        ADD COLUMN mpps_note text,
        ADD COLUMN mpps_created boolean NOT NULL DEFAULT false,
        ADD COLUMN mpps_performed_series jsonb,
        ADD COLUMN mpps_attempts integer NOT NULL DEFAULT 0,
        ADD COLUMN mpps_next_attempt_at timestamptz`);
    await db.query(
      `CREATE INDEX worklist_task_completing ON worklist_task (mpps_next_attempt_at) WHERE status = 'completing'`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX worklist_task_completing`);
    await db.query(`
      ALTER TABLE worklist_task
        DROP COLUMN mpps_sop_instance_uid, DROP COLUMN mpps_status_code, DROP COLUMN mpps_status_meaning,
        DROP COLUMN mpps_note, DROP COLUMN mpps_created, DROP COLUMN mpps_performed_series,
        DROP COLUMN mpps_attempts, DROP COLUMN mpps_next_attempt_at`);
  }
}
