import { Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Min, ValidateNested } from 'class-validator';
import { IsDicomUid } from '@pacslink/dicom';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';

export const TransferDirections = ['export', 'import'] as const;
export type TransferDirection = (typeof TransferDirections)[number];

export const TransferStatuses = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TransferStatus = (typeof TransferStatuses)[number];

export const TransferMethods = ['STOW-RS', 'C-STORE', 'WADO-RS', 'C-GET', 'C-MOVE'] as const;
export type TransferMethod = (typeof TransferMethods)[number];

export class TransferProgress {
  @IsInt() @Min(0) total!: number;
  @IsInt() @Min(0) completed!: number;
  @IsInt() @Min(0) failed!: number;
  @IsInt() @Min(0) warning!: number;
}

/** Transfer events carry no patient names or IDs and no secrets (contract, "Events on RabbitMQ"). */
export class TransferEventData {
  @IsUUID() transferId!: string;
  @IsIn(TransferDirections) direction!: TransferDirection;
  @IsUUID() pacsConfigId!: string;
  @IsString() pacsAeTitle!: string;
  @IsDicomUid() studyInstanceUid!: string;
  @IsIn(TransferStatuses) status!: TransferStatus;
  @IsObject() @ValidateNested() @Type(() => TransferProgress) progress!: TransferProgress;
  @IsOptional() @IsIn(TransferMethods) method?: TransferMethod;
  /** An import whose C-GET gave way to C-MOVE: why, in words (the transfer's `fallback`). */
  @IsOptional() @IsString() fallback?: string;
  @IsOptional() @IsString() error?: string;
}

function transferEvent(type: string): MessageContract<TransferEventData> {
  return { type, version: 1, kind: 'event', exchange: Exchanges.Events, data: TransferEventData };
}

export const TransferEvents = {
  Queued: transferEvent('transfer.queued'),
  Started: transferEvent('transfer.started'),
  Progress: transferEvent('transfer.progress'),
  Completed: transferEvent('transfer.completed'),
  Failed: transferEvent('transfer.failed'),
  Cancelled: transferEvent('transfer.cancelled'),
} as const;
