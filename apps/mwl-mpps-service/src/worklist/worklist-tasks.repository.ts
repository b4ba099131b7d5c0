import { Injectable } from '@nestjs/common';
import type {
  PerformedSeriesData,
  WorklistTask,
  WorklistTaskPage,
  WorklistTaskStatus,
  WorklistTasksListData,
} from '@pacslink/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import type { WorklistStep } from './worklist-step';

export interface TaskRow {
  id: string;
  pacs_config_id: string;
  status: WorklistTaskStatus;
  patient_name: string | null;
  patient_id: string | null;
  patient_birth_date: string | null;
  patient_sex: string | null;
  accession_number: string | null;
  requested_procedure_id: string | null;
  requested_procedure_description: string | null;
  study_instance_uid: string | null;
  scheduled_procedure_step_id: string | null;
  scheduled_procedure_step_description: string | null;
  modality: string | null;
  scheduled_station_ae_title: string | null;
  scheduled_start_date: string | null;
  scheduled_start_time: string | null;
  warnings: string[];
  mpps_sop_instance_uid: string | null;
  mpps_status_code: number | null;
  mpps_status_meaning: string | null;
  mpps_note: string | null;
  /** the SCP holds our instance (an N-CREATE of it succeeded, or said it was a duplicate) */
  mpps_created: boolean;
  mpps_performed_series: PerformedSeriesData[] | null;
  mpps_attempts: number;
  mpps_next_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The step's columns, in the order of STEP_COLUMNS. */
const STEP_COLUMNS = [
  'patient_name',
  'patient_id',
  'patient_birth_date',
  'patient_sex',
  'accession_number',
  'requested_procedure_id',
  'requested_procedure_description',
  'study_instance_uid',
  'scheduled_procedure_step_id',
  'scheduled_procedure_step_description',
  'modality',
  'scheduled_station_ae_title',
  'scheduled_start_date',
  'scheduled_start_time',
] as const;

function stepValues(step: WorklistStep): (string | null)[] {
  return [
    step.patientName,
    step.patientId,
    step.patientBirthDate,
    step.patientSex,
    step.accessionNumber,
    step.requestedProcedureId,
    step.requestedProcedureDescription,
    step.studyInstanceUid,
    step.scheduledProcedureStepId,
    step.scheduledProcedureStepDescription,
    step.modality,
    step.scheduledStationAeTitle,
    step.scheduledStartDate,
    step.scheduledStartTime,
  ];
}

export function taskOf(row: TaskRow): WorklistTask {
  return {
    id: row.id,
    pacsConfigId: row.pacs_config_id,
    status: row.status,
    patientName: row.patient_name,
    patientId: row.patient_id,
    patientBirthDate: row.patient_birth_date,
    patientSex: row.patient_sex,
    accessionNumber: row.accession_number,
    requestedProcedureId: row.requested_procedure_id,
    requestedProcedureDescription: row.requested_procedure_description,
    studyInstanceUid: row.study_instance_uid,
    scheduledProcedureStepId: row.scheduled_procedure_step_id,
    scheduledProcedureStepDescription: row.scheduled_procedure_step_description,
    modality: row.modality,
    scheduledStationAeTitle: row.scheduled_station_ae_title,
    scheduledStartDate: row.scheduled_start_date,
    scheduledStartTime: row.scheduled_start_time,
    warnings: row.warnings,
    mpps:
      row.mpps_sop_instance_uid === null
        ? null
        : {
            sopInstanceUid: row.mpps_sop_instance_uid,
            statusCode: row.mpps_status_code,
            meaning: row.mpps_status_meaning,
            note: row.mpps_note,
            attempts: row.mpps_attempts,
            nextAttemptAt: row.mpps_next_attempt_at?.toISOString() ?? null,
          },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** By default the list holds the work still to do (contract "Worklist"). */
export const DEFAULT_LISTED_STATUSES: readonly WorklistTaskStatus[] = [
  'scheduled',
  'in-progress',
  'completing',
];

/** What an MPPS request changes on its task; the columns left out stay as they are. */
export interface MppsChange {
  status?: WorklistTaskStatus;
  statusCode: number | null;
  meaning: string | null;
  note: string | null;
  created?: boolean;
  performedSeries?: PerformedSeriesData[];
  attempts?: number;
  nextAttemptAt?: Date | null;
}

/** worklist_task in mwl-mpps-service's own schema. */
@Injectable()
export class WorklistTasksRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * The step's task, created scheduled or updated in place (the same pacsConfigId and step key:
   * one row, whatever the number of queries); its status is left as it is.
   */
  async upsert(pacsConfigId: string, stepKey: string, step: WorklistStep): Promise<WorklistTask> {
    const columns = STEP_COLUMNS.join(', ');
    const placeholders = STEP_COLUMNS.map((_, index) => `$${index + 4}`).join(', ');
    const updates = [...STEP_COLUMNS, 'warnings']
      .map((column) => `${column} = EXCLUDED.${column}`)
      .join(', ');
    const rows = await this.db.query<TaskRow[]>(
      `INSERT INTO worklist_task (pacs_config_id, step_key, warnings, ${columns})
       VALUES ($1, $2, $3::jsonb, ${placeholders})
       ON CONFLICT (pacs_config_id, step_key) DO UPDATE SET ${updates}, updated_at = now()
       RETURNING *`,
      [pacsConfigId, stepKey, JSON.stringify(step.warnings), ...stepValues(step)],
    );
    return taskOf(rows[0]);
  }

  /**
   * Gives the task its MPPS SOP Instance UID unless it has one, committed before any request is
   * sent: a retry after an answer that never came sends the same instance (the SCP then says
   * duplicate, 0x0111) instead of a second one. Undefined when no such task.
   */
  async assignMppsUid(id: string, uid: string): Promise<TaskRow | undefined> {
    // TypeORM answers an UPDATE … RETURNING as [rows, count].
    const [rows] = await this.db.query<[TaskRow[], number]>(
      `UPDATE worklist_task SET mpps_sop_instance_uid = COALESCE(mpps_sop_instance_uid, $2)
       WHERE id = $1 RETURNING *`,
      [id, uid],
    );
    return rows[0];
  }

  async find(id: string): Promise<WorklistTask | undefined> {
    const rows = await this.db.query<TaskRow[]>(`SELECT * FROM worklist_task WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : taskOf(rows[0]);
  }

  /** The task, locked until `manager`'s transaction ends (one MPPS request per task at a time). */
  async lock(manager: EntityManager, id: string): Promise<TaskRow | undefined> {
    const rows = await manager.query<TaskRow[]>(`SELECT * FROM worklist_task WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0];
  }

  async recordMpps(
    manager: EntityManager | DataSource,
    id: string,
    change: MppsChange,
  ): Promise<WorklistTask> {
    const sets = [
      'mpps_status_code = $2',
      'mpps_status_meaning = $3',
      'mpps_note = $4',
      'updated_at = now()',
    ];
    const parameters: unknown[] = [id, change.statusCode, change.meaning, change.note];
    const optional: [string, unknown][] = [
      ['status', change.status],
      ['mpps_created', change.created],
      ['mpps_performed_series', change.performedSeries && JSON.stringify(change.performedSeries)],
      ['mpps_attempts', change.attempts],
      ['mpps_next_attempt_at', change.nextAttemptAt],
    ];
    for (const [column, value] of optional) {
      if (value === undefined) continue;
      parameters.push(value);
      sets.push(`${column} = $${parameters.length}`);
    }
    const [rows] = await manager.query<[TaskRow[], number]>(
      `UPDATE worklist_task SET ${sets.join(', ')} WHERE id = $1 RETURNING *`,
      parameters,
    );
    return taskOf(rows[0]);
  }

  /** A page of tasks, earliest scheduled first. */
  async list(query: WorklistTasksListData): Promise<WorklistTaskPage> {
    const statuses = query.status && query.status.length > 0 ? query.status : DEFAULT_LISTED_STATUSES;
    const where = ['status = ANY($1)'];
    const parameters: unknown[] = [statuses];
    if (query.pacsConfigId !== undefined) {
      parameters.push(query.pacsConfigId);
      where.push(`pacs_config_id = $${parameters.length}`);
    }
    const condition = where.join(' AND ');
    const [rows, counted] = await Promise.all([
      this.db.query<TaskRow[]>(
        `SELECT * FROM worklist_task WHERE ${condition}
         ORDER BY scheduled_start_date NULLS LAST, scheduled_start_time NULLS LAST, id
         LIMIT $${parameters.length + 1} OFFSET $${parameters.length + 2}`,
        [...parameters, query.limit, query.offset],
      ),
      this.db.query<{ total: number }[]>(
        `SELECT count(*)::int AS total FROM worklist_task WHERE ${condition}`,
        parameters,
      ),
    ]);
    return { items: rows.map(taskOf), total: counted[0].total, limit: query.limit, offset: query.offset };
  }
}
