import { SpecificCharacterSets, type SpecificCharacterSet } from '@pacslink/dicom';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsOptional, IsUUID, Matches, Max, Min, ValidateNested } from 'class-validator';
import { WorklistTaskStatuses, type WorklistTaskStatus } from '../events/worklist.events';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';
import { DimseTargetData } from './connection-test.requests';

/** The most tasks one list page may hold. */
export const MAX_WORKLIST_PAGE = 500;

/** A worklist PACS as mwl-mpps-service calls it: a DIMSE target and the encoding of its answers. */
export class WorklistTargetData extends DimseTargetData {
  /** Decodes answers without (0008,0005) (DCMTK wlmscpfs never sends one) and encodes non-ASCII keys. */
  @IsIn(SpecificCharacterSets) mwlEncoding!: SpecificCharacterSet;
}

/** YYYYMMDD or a range YYYYMMDD-YYYYMMDD (PS3.4 C.2.2.2.5), checked by config-service before. */
export const SCHEDULED_DATE_PATTERN = /^\d{8}(-\d{8})?$/;

/** The contract's worklist filters, all on the Scheduled Procedure Step. */
export class WorklistFiltersData {
  @IsOptional() @Matches(SCHEDULED_DATE_PATTERN) scheduledDate?: string;
  /** A modality code (CS), e.g. CT. */
  @IsOptional() @Matches(/^[A-Z0-9_ ]{1,16}$/) modality?: string;
  @IsOptional() @Matches(/^[\x20-\x5b\x5d-\x7e]{1,16}$/) scheduledStationAeTitle?: string;
}

/** A Modality Worklist C-FIND (mwl-mpps-service), its matches kept as tasks. */
export class WorklistQueryData {
  @IsUUID() pacsConfigId!: string;
  @ValidateNested() @Type(() => WorklistTargetData) target!: WorklistTargetData;
  @ValidateNested() @Type(() => WorklistFiltersData) filters!: WorklistFiltersData;
}

/** One page of the stored tasks, newest scheduled first; no status: scheduled and in-progress. */
export class WorklistTasksListData {
  @IsOptional() @IsUUID() pacsConfigId?: string;
  @IsOptional() @IsArray() @IsIn(WorklistTaskStatuses, { each: true }) status?: WorklistTaskStatus[];
  @IsInt() @Min(1) @Max(MAX_WORKLIST_PAGE) limit!: number;
  @IsInt() @Min(0) offset!: number;
}

/** One task by its id (config-service: which configuration's MPPS SCP to call, which study to name). */
export class WorklistTaskGetData {
  @IsUUID() taskId!: string;
}

/**
 * A scheduled procedure step as the worklist gave it, kept by mwl-mpps-service. Text is decoded;
 * `warnings` names each value that could not be (it is then as decoded, with U+FFFD).
 */
export interface WorklistTask {
  id: string;
  pacsConfigId: string;
  status: WorklistTaskStatus;
  patientName: string | null;
  patientId: string | null;
  patientBirthDate: string | null;
  patientSex: string | null;
  accessionNumber: string | null;
  requestedProcedureId: string | null;
  requestedProcedureDescription: string | null;
  studyInstanceUid: string | null;
  scheduledProcedureStepId: string | null;
  scheduledProcedureStepDescription: string | null;
  modality: string | null;
  scheduledStationAeTitle: string | null;
  /** YYYYMMDD */
  scheduledStartDate: string | null;
  /** HHMMSS[.FFFFFF] as the worklist gave it */
  scheduledStartTime: string | null;
  warnings: string[];
  /** The task's Modality Performed Procedure Step, once one was attempted; else null. */
  mpps: WorklistTaskMpps | null;
  createdAt: string;
  updatedAt: string;
}

/** What mwl-mpps-service knows of a task's MPPS instance (PS3.4 F.7). */
export interface WorklistTaskMpps {
  /** Ours (libs/dicom newUid), chosen before the first N-CREATE and kept for every N-SET. */
  sopInstanceUid: string;
  /** The SCP's last answer: (0000,0900), null when none came (e.g. connection refused). */
  statusCode: number | null;
  /** That status in words, or why no status came. */
  meaning: string | null;
  /** A warning's note (a warning is a success), or the failure that left the task as it was. */
  note: string | null;
  /** Attempts of the pending N-SET COMPLETED (status completing), 0 otherwise. */
  attempts: number;
  nextAttemptAt: string | null;
}

export interface WorklistQueryResult {
  /** The tasks of this answer's steps, created or refreshed. */
  tasks: WorklistTask[];
  /** Steps with no Study Instance UID, Accession Number or step ID: not kept (nothing tells them apart). */
  unidentified: number;
}

export interface WorklistTaskPage {
  items: WorklistTask[];
  total: number;
  limit: number;
  offset: number;
}

export const WorklistRequests = {
  Query: {
    type: 'mwl.query',
    version: 1,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: WorklistQueryData,
  } satisfies MessageContract<WorklistQueryData>,
  ListTasks: {
    type: 'mwl.tasks.list',
    version: 1,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: WorklistTasksListData,
  } satisfies MessageContract<WorklistTasksListData>,
  /** Answers the task, or fails with MppsErrorCodes.TaskNotFound. */
  GetTask: {
    type: 'mwl.tasks.get',
    version: 1,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: WorklistTaskGetData,
  } satisfies MessageContract<WorklistTaskGetData>,
} as const;
