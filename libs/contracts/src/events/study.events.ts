import { IsInt, IsString, IsUUID, MaxLength, Min } from 'class-validator';
import { IsDicomUid } from '@pacslink/dicom';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';

/**
 * A study pushed to dimse-worker's Storage SCP by a configured PACS, once its association ended
 * and what it stored is indexed. Counts are of that association; no patient data (contract).
 */
export class StudyReceivedEventData {
  @IsDicomUid() studyInstanceUid!: string;
  @IsUUID() pacsConfigId!: string;
  /** The configuration's AE title. */
  @IsString() @MaxLength(16) pacsAeTitle!: string;
  @IsInt() @Min(0) instances!: number;
  @IsInt() @Min(0) series!: number;
  /** Ours, to tell two associations that sent instances of the same study apart. */
  @IsUUID() associationId!: string;
}

export const StudyEvents = {
  Received: {
    type: 'study.received',
    version: 1,
    kind: 'event',
    exchange: Exchanges.Events,
    data: StudyReceivedEventData,
  } satisfies MessageContract<StudyReceivedEventData>,
} as const;
