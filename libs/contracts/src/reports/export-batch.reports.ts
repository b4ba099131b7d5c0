import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  ArrayMaxSize,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsDicomUid } from '@pacslink/dicom';
import { MAX_EXPORT_BATCH_INSTANCES } from '../commands/export-batch.commands';
import { ImportInstanceData } from '../commands/import-batch.commands';
import { TransferMethods, type TransferMethod } from '../events/transfer.events';
import { STORED_PATH } from './stored-path';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';

/** Which export batch a report is about; reports of another attempt are stale and ignored. */
export class ExportBatchRef {
  @IsUUID() transferId!: string;
  @IsUUID() batchId!: string;
  @IsInt() @Min(1) attempt!: number;
}

/**
 * One worker's run of one attempt of a batch: `claimant` is a UUID the worker makes for each
 * delivery of the batch command it handles. A redelivered command is a new run, so config-service
 * tells a run that still sends from its redelivered copy (ADR 0006, amendment of issue 10).
 */
export class ExportBatchRunRef extends ExportBatchRef {
  @IsUUID() claimant!: string;
}

export const InstanceOutcomeStatuses = ['success', 'warning', 'failure'] as const;
export type InstanceOutcomeStatus = (typeof InstanceOutcomeStatuses)[number];

/**
 * Export: what the PACS answered for one instance (C-STORE-RSP status, or a STOW-RS response item).
 * Import: whether the instance arrived and was stored; `path` names its file in the study store
 * (relative to STORE_DIR), which config-service reads and indexes, as for the Storage SCP.
 */
export class InstanceOutcomeData {
  @IsDicomUid() sopInstanceUid!: string;
  @IsIn(InstanceOutcomeStatuses) status!: InstanceOutcomeStatus;
  @IsOptional() @IsInt() @Min(0) @Max(0xffff) statusCode?: number;
  @IsOptional() @IsString() @MaxLength(1024) reason?: string;
  @IsOptional() @IsString() @MaxLength(256) @Matches(STORED_PATH) path?: string;
}

export class ExportBatchProgressData extends ExportBatchRunRef {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => InstanceOutcomeData)
  outcomes!: InstanceOutcomeData[];
  /**
   * Import: the method this run retrieves with, when it is not the one the batch was sent with
   * (C-GET gave way to C-MOVE); `fallback` says why, in words. Reported once, as soon as it happens.
   */
  @IsOptional() @IsIn(TransferMethods) method?: TransferMethod;
  @IsOptional() @IsString() @MaxLength(2048) fallback?: string;
}

/** The most instances one import may bring (its plan's manifest travels in one report). */
export const MAX_IMPORT_INSTANCES = 50_000;

/** PS3.7 9.1.3 / 9.1.4: what the PACS says its C-STORE sub-operations came to. */
export class SubOperationCountsData {
  @IsInt() @Min(0) completed!: number;
  @IsInt() @Min(0) failed!: number;
  @IsInt() @Min(0) warning!: number;
}

/** Why a batch stopped before every instance had an outcome. */
export class ExportBatchFailureData {
  /** true: retrying later can succeed (refused, timeout, 5xx, 429, transient reject); false: it cannot. */
  @IsBoolean() transient!: boolean;
  @IsString() @MaxLength(2048) reason!: string;
  /** The protocol library's error code (e.g. EGRESS_REFUSED: config-service audits the refusal). */
  @IsOptional() @IsString() @MaxLength(64) code?: string;
  /**
   * true: the PACS could not be reached or did not answer at all (refused, no route, no connection
   * or association answer in time, HTTP 502/503/504): it counts toward the PACS's circuit. false:
   * the PACS answered. Absent: the failure says nothing about the PACS (nothing was sent).
   */
  @IsOptional() @IsBoolean() unreachable?: boolean;
}

/**
 * The end of a run. `outcomes` holds every outcome of the run, also those a progress report carried
 * before: reports are consumed concurrently, so this one may be applied before them, and settling
 * must never run on a partial picture.
 */
export class ExportBatchFinishedData extends ExportBatchProgressData {
  @IsOptional() @ValidateNested() @Type(() => ExportBatchFailureData) failure?: ExportBatchFailureData;
  /** An import plan batch: every instance the PACS holds of what was asked for. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_IMPORT_INSTANCES)
  @ValidateNested({ each: true })
  @Type(() => ImportInstanceData)
  manifest?: ImportInstanceData[];
  /**
   * A C-GET or C-MOVE retrieve batch: the PACS's final sub-operation counts. After a C-MOVE the
   * instances arrive through the Storage SCP (any replica, its own report); config-service waits
   * for those the PACS says it sent.
   */
  @IsOptional() @ValidateNested() @Type(() => SubOperationCountsData) subOperations?: SubOperationCountsData;
}

export interface ExportBatchClaim {
  /** false: drop the command (cancelled, re-dispatched, done), unless `retryAfterMs` is set. */
  go: boolean;
  reason?: string;
  /**
   * Another run holds this attempt and its lease is live (it may be the very run whose delivery
   * the broker gave back): hold the delivery and claim again after this long. Never two senders.
   */
  retryAfterMs?: number;
}

/** Max outcomes per report: a batch never holds more, so a finished report carries all of a run. */
export const MAX_REPORT_OUTCOMES = MAX_EXPORT_BATCH_INSTANCES;

/** Worker → config-service, on the internal command exchange (routing keys `config-service.#`). */
export const ExportBatchReports = {
  // Version 2 (issue 10): claims and reports name their run (claimant); finished carries all outcomes.
  Claim: {
    type: 'config-service.export-batch.claim',
    version: 2,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: ExportBatchRunRef,
  } satisfies MessageContract<ExportBatchRunRef>,
  Progress: {
    type: 'config-service.export-batch.progress',
    version: 2,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: ExportBatchProgressData,
  } satisfies MessageContract<ExportBatchProgressData>,
  Finished: {
    type: 'config-service.export-batch.finished',
    version: 2,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: ExportBatchFinishedData,
  } satisfies MessageContract<ExportBatchFinishedData>,
} as const;
