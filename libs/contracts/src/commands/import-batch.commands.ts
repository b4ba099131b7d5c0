import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { IsDicomUid } from '@pacslink/dicom';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';
import { DicomwebTargetData, DimseTargetData } from '../requests/connection-test.requests';
import { MAX_EXPORT_BATCH_INSTANCES } from './export-batch.commands';

/**
 * An import runs in two kinds of batch on the export's claim / lease / report machinery
 * (docs/decisions/0006-transfers.md, "Import"): first one *plan* batch, in which the worker asks
 * the PACS what the study (or series) holds and reports it (ImportPlanResultData); config-service
 * cuts that list into *retrieve* batches, leaving out what the study store already holds.
 */
export class ImportPlanData {
  @IsUUID() transferId!: string;
  @IsUUID() batchId!: string;
  @IsInt() @Min(1) attempt!: number;
  /**
   * The PACS configuration the batch goes to or comes from: labels the worker's
   * pacslink_association_failures_total. Optional, so that a command of an older config-service
   * still validates (the label then says unknown).
   */
  @IsOptional() @IsUUID() pacsConfigId?: string;
  @IsDicomUid() studyInstanceUid!: string;
  @IsOptional() @IsDicomUid() seriesInstanceUid?: string;
}

/** C-FIND at IMAGE level (Study Root), from `target.callingAeTitle` (the queryAeTitle). */
export class DimseImportPlanData extends ImportPlanData {
  @ValidateNested() @Type(() => DimseTargetData) target!: DimseTargetData;
}

/** QIDO-RS `studies/{study}/instances` (or the series' instances). */
export class DicomwebImportPlanData extends ImportPlanData {
  @ValidateNested() @Type(() => DicomwebTargetData) target!: DicomwebTargetData;
}

/**
 * One instance to retrieve, as the plan found it. `sopClassUid` when the PACS said it (an optional
 * C-FIND return key that DCMTK dcmqrscp never returns; QIDO-RS always does): a C-GET then offers
 * COMMON_STORAGE_SOP_CLASSES (libs/dicom) besides the known ones.
 */
export class ImportInstanceData {
  @IsDicomUid() sopInstanceUid!: string;
  @IsDicomUid() seriesInstanceUid!: string;
  @IsOptional() @IsDicomUid() sopClassUid?: string;
}

/**
 * A retrieve batch: these instances of one study. `wholeSeries` names the series of which the batch
 * holds every instance the plan found: the worker may retrieve those at series level (one WADO-RS
 * request, one C-GET / C-MOVE at SERIES level) and the rest instance by instance. Instances the
 * PACS sends that the batch does not name are not kept.
 */
export class ImportBatchData {
  @IsUUID() transferId!: string;
  @IsUUID() batchId!: string;
  @IsInt() @Min(1) attempt!: number;
  /**
   * The PACS configuration the batch goes to or comes from: labels the worker's
   * pacslink_association_failures_total. Optional, so that a command of an older config-service
   * still validates (the label then says unknown).
   */
  @IsOptional() @IsUUID() pacsConfigId?: string;
  @IsDicomUid() studyInstanceUid!: string;
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_EXPORT_BATCH_INSTANCES)
  @ValidateNested({ each: true })
  @Type(() => ImportInstanceData)
  instances!: ImportInstanceData[];
  @IsArray() @IsDicomUid({ each: true }) wholeSeries!: string[];
}

export const DimseRetrieveOperations = ['C-GET', 'C-MOVE'] as const;
export type DimseRetrieveOperation = (typeof DimseRetrieveOperations)[number];

/**
 * C-GET (the instances come back on the association) or C-MOVE (the PACS sends them to
 * `moveDestinationAeTitle`, our Storage SCP, on an association of its own, which may land on any
 * replica). `moveOnGetFailure`: the configuration's `get-then-move` — when C-GET is not possible
 * or not successful, the run goes on with C-MOVE at once and reports the fallback.
 */
export class DimseImportBatchData extends ImportBatchData {
  @ValidateNested() @Type(() => DimseTargetData) target!: DimseTargetData;
  @IsIn(DimseRetrieveOperations) operation!: DimseRetrieveOperation;
  @IsBoolean() moveOnGetFailure!: boolean;
  @IsString() @MinLength(1) @MaxLength(16) moveDestinationAeTitle!: string;
}

export class DicomwebImportBatchData extends ImportBatchData {
  @ValidateNested() @Type(() => DicomwebTargetData) target!: DicomwebTargetData;
}

export const ImportBatchCommands = {
  DimsePlan: {
    type: 'dimse.import-plan',
    version: 1,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: DimseImportPlanData,
  } satisfies MessageContract<DimseImportPlanData>,
  DicomwebPlan: {
    type: 'dicomweb.import-plan',
    version: 1,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: DicomwebImportPlanData,
  } satisfies MessageContract<DicomwebImportPlanData>,
  Dimse: {
    type: 'dimse.import-batch',
    version: 1,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: DimseImportBatchData,
  } satisfies MessageContract<DimseImportBatchData>,
  Dicomweb: {
    type: 'dicomweb.import-batch',
    version: 1,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: DicomwebImportBatchData,
  } satisfies MessageContract<DicomwebImportBatchData>,
} as const;
