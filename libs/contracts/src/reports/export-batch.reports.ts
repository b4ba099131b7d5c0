import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { DICOM_UID } from '../events/transfer.events';
import { MAX_EXPORT_BATCH_INSTANCES } from '../commands/export-batch.commands';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';

/** Which export batch a report is about; reports of another attempt are stale and ignored. */
export class ExportBatchRef {
  @IsUUID() transferId!: string;
  @IsUUID() batchId!: string;
  @IsInt() @Min(1) attempt!: number;
}

export const InstanceOutcomeStatuses = ['success', 'warning', 'failure'] as const;
export type InstanceOutcomeStatus = (typeof InstanceOutcomeStatuses)[number];

/** What the PACS answered for one instance (C-STORE-RSP status, or a STOW-RS response item). */
export class InstanceOutcomeData {
  @Matches(DICOM_UID) @MaxLength(64) sopInstanceUid!: string;
  @IsIn(InstanceOutcomeStatuses) status!: InstanceOutcomeStatus;
  @IsOptional() @IsInt() @Min(0) @Max(0xffff) statusCode?: number;
  @IsOptional() @IsString() @MaxLength(1024) reason?: string;
}

export class ExportBatchProgressData extends ExportBatchRef {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => InstanceOutcomeData)
  outcomes!: InstanceOutcomeData[];
}

/** Why a batch stopped before every instance had an outcome. */
export class ExportBatchFailureData {
  /** true: retrying later can succeed (refused, timeout, 5xx, 429, transient reject); false: it cannot. */
  @IsBoolean() transient!: boolean;
  @IsString() @MaxLength(2048) reason!: string;
  /** The protocol library's error code (e.g. EGRESS_REFUSED: config-service audits the refusal). */
  @IsOptional() @IsString() @MaxLength(64) code?: string;
}

export class ExportBatchFinishedData extends ExportBatchProgressData {
  @IsOptional() @ValidateNested() @Type(() => ExportBatchFailureData) failure?: ExportBatchFailureData;
}

export interface ExportBatchClaim {
  /** false: the batch was cancelled, re-dispatched or already done; drop the command. */
  go: boolean;
  reason?: string;
}

/** Max outcomes per report; a worker splits bigger ones. */
export const MAX_REPORT_OUTCOMES = MAX_EXPORT_BATCH_INSTANCES;

/** Worker → config-service, on the internal command exchange (routing keys `config-service.#`). */
export const ExportBatchReports = {
  Claim: {
    type: 'config-service.export-batch.claim',
    version: 1,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: ExportBatchRef,
  } satisfies MessageContract<ExportBatchRef>,
  Progress: {
    type: 'config-service.export-batch.progress',
    version: 1,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: ExportBatchProgressData,
  } satisfies MessageContract<ExportBatchProgressData>,
  Finished: {
    type: 'config-service.export-batch.finished',
    version: 1,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: ExportBatchFinishedData,
  } satisfies MessageContract<ExportBatchFinishedData>,
} as const;
