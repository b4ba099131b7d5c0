import { IsDicomUid } from '@pacslink/dicom';
import { IsIn, IsOptional, IsString, IsUUID } from 'class-validator';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';

/**
 * `completing`: the study was sent and the MPPS N-SET COMPLETED is still to reach the SCP (retried
 * with backoff by mwl-mpps-service).
 */
export const WorklistTaskStatuses = [
  'scheduled',
  'in-progress',
  'completing',
  'completed',
  'discontinued',
] as const;
export type WorklistTaskStatus = (typeof WorklistTaskStatuses)[number];

/** No patient name or ID: subscribers that need them read the task through the REST API. */
export class WorklistTaskEventData {
  @IsUUID() taskId!: string;
  @IsUUID() pacsConfigId!: string;
  @IsIn(WorklistTaskStatuses) status!: WorklistTaskStatus;
  @IsOptional() @IsDicomUid() studyInstanceUid?: string;
  @IsOptional() @IsString() accessionNumber?: string;
}

function worklistEvent(type: string): MessageContract<WorklistTaskEventData> {
  return { type, version: 1, kind: 'event', exchange: Exchanges.Events, data: WorklistTaskEventData };
}

export const WorklistTaskEvents = {
  Started: worklistEvent('worklist.task.started'),
  Completed: worklistEvent('worklist.task.completed'),
  Discontinued: worklistEvent('worklist.task.discontinued'),
} as const;
