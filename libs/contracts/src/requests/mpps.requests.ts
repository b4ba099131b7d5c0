import { IsDicomUid } from '@pacslink/dicom';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';
import { WorklistTargetData } from './worklist.requests';

/** Instances of one series the MPPS names as performed (Referenced Image Sequence and the like). */
export class PerformedInstanceData {
  @IsDicomUid() sopClassUid!: string;
  @IsDicomUid() sopInstanceUid!: string;
}

/** One item of the Performed Series Sequence (PS3.4 Table F.7.2-1), from config-service's study index. */
export class PerformedSeriesData {
  @IsDicomUid() seriesInstanceUid!: string;
  @IsOptional() @IsString() @MaxLength(64) seriesDescription?: string;
  @IsOptional() @IsString() @MaxLength(64) protocolName?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PerformedInstanceData)
  instances!: PerformedInstanceData[];
}

/**
 * A task's MPPS request: the task, and its configuration's MPPS SCP as config-service builds it
 * (the same DIMSE target as its worklist: host, port, AE titles, timeoutMs, mwlEncoding).
 */
export class MppsTaskData {
  @IsUUID() taskId!: string;
  @ValidateNested() @Type(() => WorklistTargetData) target!: WorklistTargetData;
}

/** N-SET COMPLETED: what was performed, series by series (config-service reads its study index). */
export class MppsCompleteData extends MppsTaskData {
  @IsArray()
  @ArrayMaxSize(10_000)
  @ValidateNested({ each: true })
  @Type(() => PerformedSeriesData)
  performedSeries!: PerformedSeriesData[];
}

/**
 * Procedure Discontinuation Reasons (PS3.16 CID 9300, scheme DCM): the code value sent in the
 * Performed Procedure Step Discontinuation Reason Code Sequence, with its meaning.
 */
export const DiscontinuationReasons = {
  '110500': 'Doctor canceled procedure',
  '110501': 'Equipment failure',
  '110502': 'Incorrect procedure ordered',
  '110503': 'Patient allergic to media/contrast',
  '110504': 'Patient died',
  '110505': 'Patient refused to continue procedure',
  '110506': 'Patient taken for treatment or surgery',
  '110507': 'Patient did not arrive',
  '110508': 'Patient pregnant',
  '110509': 'Change of procedure for correct charging',
  '110510': 'Duplicate order',
  '110511': 'Nursing unit cancel',
  '110512': 'Incorrect side ordered',
  '110513': 'Discontinued for unspecified reason',
  '110514': 'Incorrect worklist entry selected',
} as const;
export type DiscontinuationReason = keyof typeof DiscontinuationReasons;
export const DEFAULT_DISCONTINUATION_REASON: DiscontinuationReason = '110513';

/** N-SET DISCONTINUED with a reason; what was performed before, if anything. */
export class MppsDiscontinueData extends MppsTaskData {
  @IsIn(Object.keys(DiscontinuationReasons)) reason!: DiscontinuationReason;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PerformedSeriesData)
  performedSeries?: PerformedSeriesData[];
}

/**
 * Error codes of a refused MPPS request (RpcRemoteError.code), for config-service's edge:
 * unknown task 404, a state that does not allow it 409, the SCP's failure or no SCP 502.
 */
export const MppsErrorCodes = {
  TaskNotFound: 'MPPS_TASK_NOT_FOUND',
  TaskState: 'MPPS_TASK_STATE',
  ScpFailed: 'MPPS_SCP_FAILED',
} as const;

function mppsRequest<T extends object>(type: string, data: new () => T): MessageContract<T> {
  return { type, version: 1, kind: 'request', exchange: Exchanges.Commands, data };
}

/** mwl-mpps-service -> config-service: what completing a configuration's tasks of a study needs. */
export class MppsCompletionQueryData {
  @IsUUID() pacsConfigId!: string;
  @IsDicomUid() studyInstanceUid!: string;
}

/**
 * The MPPS SCP of the configuration (null: it has no `mpps`, or is gone) and the study's series and
 * instances and Accession Number as config-service's study index holds them.
 */
export interface MppsCompletionTarget {
  target: WorklistTargetData | null;
  performedSeries: PerformedSeriesData[];
  /**
   * The study's (0008,0050), null when it has none, for tasks matched by accession when none has
   * the study's UID. Absent from a config-service older than it: read as null.
   */
  accessionNumber?: string | null;
}

export const MppsCompletionRequests = {
  Get: {
    type: 'config-service.mpps.completion',
    version: 1,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: MppsCompletionQueryData,
  } satisfies MessageContract<MppsCompletionQueryData>,
} as const;

/** config-service -> mwl-mpps-service; each answers the task as it is after the request. */
export const MppsRequests = {
  Start: mppsRequest('mpps.start', MppsTaskData),
  Complete: mppsRequest('mpps.complete', MppsCompleteData),
  Discontinue: mppsRequest('mpps.discontinue', MppsDiscontinueData),
} as const;
