import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
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
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';
import { STORED_PATH } from './stored-path';

/**
 * Most instances one association may store (the Storage SCP's per-association limit): its one
 * report, sent when it ends, names them all and stays a few MB at most.
 */
export const MAX_INSTANCES_PER_ASSOCIATION = 10_000;

/**
 * Instances of one association that arrived as the C-STORE sub-operations of a C-MOVE (their
 * C-STORE-RQ named a Move Originator, PS3.7 9.1.1.1): which AE asked for the move, and its
 * C-MOVE-RQ's Message ID, so that config-service can tell a retrieve of ours from a push.
 */
export class StorageScpMoveSubOperations {
  @IsString() @MaxLength(16) moveOriginatorAeTitle!: string;
  @IsOptional() @IsInt() @Min(0) @Max(0xffff) moveOriginatorMessageId?: number;
  @IsArray()
  @ArrayMaxSize(MAX_INSTANCES_PER_ASSOCIATION)
  @IsString({ each: true })
  @MaxLength(256, { each: true })
  @Matches(STORED_PATH, { each: true })
  paths!: string[];
}

/**
 * What dimse-worker's Storage SCP stored in one association, sent once it ended: files in the study store, named by
 * their path (relative to STORE_DIR). config-service reads the indexed attributes from the files
 * themselves: no patient data travels on the broker (docs/security.md), and the index holds what
 * the files hold, whatever a report says.
 */
export class StorageScpReceivedData {
  @IsUUID() associationId!: string;
  @IsUUID() pacsConfigId!: string;
  /** The configuration's AE title, as config-service answered it (dimse-callers). */
  @IsString() @MaxLength(16) pacsAeTitle!: string;
  /** As the peer spelt it in its A-ASSOCIATE-RQ. */
  @IsString() @MaxLength(16) callingAeTitle!: string;
  @IsArray()
  @ArrayMaxSize(MAX_INSTANCES_PER_ASSOCIATION)
  @IsString({ each: true })
  @MaxLength(256, { each: true })
  @Matches(STORED_PATH, { each: true })
  paths!: string[];
  /** Which of `paths` were C-MOVE sub-operations, by move; absent or empty: all were pushed. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_INSTANCES_PER_ASSOCIATION)
  @ValidateNested({ each: true })
  @Type(() => StorageScpMoveSubOperations)
  moves?: StorageScpMoveSubOperations[];
}

/**
 * Associations the Storage SCP rejected (A-ASSOCIATE-RJ), for config-service's audit. Repeats of
 * one refusal (same AE titles, address and reason) within a minute are folded into one report.
 */
export class StorageScpRefusedData {
  @IsString() @MaxLength(16) callingAeTitle!: string;
  @IsString() @MaxLength(16) calledAeTitle!: string;
  @IsString() @MaxLength(64) remoteAddress!: string;
  @IsString() @MaxLength(512) reason!: string;
  /** how many such associations this report stands for */
  @IsInt() @Min(1) count!: number;
}

/** Worker → config-service, on the internal command exchange (routing keys `config-service.#`). */
export const StorageScpReports = {
  Received: {
    type: 'config-service.storage-scp.received',
    version: 1,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: StorageScpReceivedData,
  } satisfies MessageContract<StorageScpReceivedData>,
  Refused: {
    type: 'config-service.storage-scp.refused',
    version: 1,
    kind: 'command',
    exchange: Exchanges.Commands,
    data: StorageScpRefusedData,
  } satisfies MessageContract<StorageScpRefusedData>,
} as const;
