import { IsArray, IsIn, IsInt, IsObject, IsString, Max, Min } from 'class-validator';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';
import { DicomwebTargetData, DimseTargetData } from './connection-test.requests';

/** The most matches one query may ask for (the contract's `limit` bound). */
export const MAX_QUERY_LIMIT = 1000;

/**
 * A Study Root C-FIND (dimse-worker). `keys` are matching keys (DICOM keyword → value, checked by
 * config-service), `returnKeys` are sent empty. The worker asks for `limit + offset` matches and
 * skips the first `offset` itself: C-FIND has no offset (PS3.4 C.4.1).
 */
export class DimseQueryData extends DimseTargetData {
  @IsIn(['STUDY', 'SERIES', 'IMAGE']) level!: 'STUDY' | 'SERIES' | 'IMAGE';
  @IsObject() keys!: Record<string, string>;
  @IsArray() @IsString({ each: true }) returnKeys!: string[];
  @IsInt() @Min(1) @Max(MAX_QUERY_LIMIT) limit!: number;
  @IsInt() @Min(0) offset!: number;
}

/** A QIDO-RS search (dicomweb-worker) with the configured auth (sealed) and Vidar headers. */
export class DicomwebQueryData extends DicomwebTargetData {
  @IsIn(['studies', 'series', 'instances']) level!: 'studies' | 'series' | 'instances';
  @IsObject() filters!: Record<string, string>;
  @IsArray() @IsString({ each: true }) includefield!: string[];
  @IsInt() @Min(1) @Max(MAX_QUERY_LIMIT) limit!: number;
  @IsInt() @Min(0) offset!: number;
}

/** The contract's query answer: DICOM JSON (PS3.18 F.2) datasets, the same shape for both protocols. */
export interface QueryResult {
  results: Record<string, unknown>[];
}

export const QueryRequests = {
  Dimse: {
    type: 'dimse.query',
    version: 1,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: DimseQueryData,
  } satisfies MessageContract<DimseQueryData>,
  Dicomweb: {
    type: 'dicomweb.query',
    version: 1,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: DicomwebQueryData,
  } satisfies MessageContract<DicomwebQueryData>,
} as const;
