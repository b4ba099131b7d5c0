import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsDicomUid } from '@pacslink/dicom';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';
import { DicomwebTargetData, DimseTargetData } from '../requests/connection-test.requests';

/** The most instances one export batch may carry; config-service cuts batches well below it. */
export const MAX_EXPORT_BATCH_INSTANCES = 1000;

/**
 * The most export batches config-service has out to one PACS at a time (a DIMSE configuration's
 * `maxAssociations` is at most this; a DICOMweb one runs fewer), across every worker replica.
 */
export const MAX_BATCHES_PER_PACS = 64;

/**
 * Deliveries a worker takes at once (its consumer prefetch), and so the batches it sends at once:
 * twice what one PACS may have out, so that one PACS, however slow its answers, never holds more
 * than half a worker replica, and other PACS' batches and the queries and connection tests behind
 * them still get through. A batch in flight costs a socket, a 256 KiB read buffer and its reports
 * (issue 10: with 8, one slow PACS of 8 associations took a worker's whole capacity).
 */
export const WORKER_PREFETCH = 2 * MAX_BATCHES_PER_PACS;

/** One stored instance to send: `path` is relative to STORE_DIR, the study store both sides share. */
export class ExportInstanceData {
  @IsDicomUid() sopInstanceUid!: string;
  @IsDicomUid() sopClassUid!: string;
  @IsDicomUid() transferSyntaxUid!: string;
  @IsString() @MaxLength(512) path!: string;
  @IsInt() @Min(0) sizeBytes!: number;
}

/**
 * A short unit of an export (docs/decisions/0006-transfers.md): the worker claims it, sends its
 * instances over one association or a few STOW-RS requests, reports outcomes, and acks. `attempt`
 * tells a stale redelivery from the current dispatch.
 */
export class ExportBatchData {
  @IsUUID() transferId!: string;
  @IsUUID() batchId!: string;
  @IsInt() @Min(1) attempt!: number;
  /**
   * The PACS configuration the batch goes to or comes from: labels the worker's
   * pacslink_association_failures_total. Optional, so that a command of an older config-service
   * still validates (the label then says unknown).
   */
  @IsOptional() @IsUUID() pacsConfigId?: string;
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_EXPORT_BATCH_INSTANCES)
  @ValidateNested({ each: true })
  @Type(() => ExportInstanceData)
  instances!: ExportInstanceData[];
}

export class DimseExportBatchData extends ExportBatchData {
  @ValidateNested() @Type(() => DimseTargetData) target!: DimseTargetData;
}

export class DicomwebExportBatchData extends ExportBatchData {
  @ValidateNested() @Type(() => DicomwebTargetData) target!: DicomwebTargetData;
  /** The configuration's stowMultipartRelated. */
  @IsBoolean() multipart!: boolean;
  @IsDicomUid() studyInstanceUid!: string;
}

export const ExportBatchCommands = {
  Dimse: {
    type: 'dimse.export-batch',
    version: 1,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: DimseExportBatchData,
  } satisfies MessageContract<DimseExportBatchData>,
  Dicomweb: {
    type: 'dicomweb.export-batch',
    version: 1,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: DicomwebExportBatchData,
  } satisfies MessageContract<DicomwebExportBatchData>,
} as const;
