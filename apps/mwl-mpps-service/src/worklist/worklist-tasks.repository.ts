import { Injectable } from '@nestjs/common';
import type {
  WorklistTask,
  WorklistTaskPage,
  WorklistTaskStatus,
  WorklistTasksListData,
} from '@pacslink/contracts';
import { DataSource } from 'typeorm';
import type { WorklistStep } from './worklist-step';

interface TaskRow {
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

function taskOf(row: TaskRow): WorklistTask {
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
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** By default the list holds the work still to do (contract "Worklist"). */
export const DEFAULT_LISTED_STATUSES: readonly WorklistTaskStatus[] = ['scheduled', 'in-progress'];

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
