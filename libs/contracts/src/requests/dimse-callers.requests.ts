import { IsString, MaxLength, MinLength } from 'class-validator';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';

/** The answer is every DIMSE configuration's AE title, whoever asks. */
export class DimseCallersQueryData {
  /** The asking Storage SCP's own AE title (SCP_AE_TITLE), for config-service's logs. */
  @IsString() @MinLength(1) @MaxLength(16) scpAeTitle!: string;
}

/** A configured DIMSE PACS that may call dimse-worker's Storage SCP, by its configured AE title. */
export interface DimseCaller {
  pacsConfigId: string;
  aeTitle: string;
}

export interface DimseCallers {
  callers: DimseCaller[];
}

/**
 * dimse-worker → config-service: who may open an association with the Storage SCP (workers have
 * no database). The worker caches the answer briefly (apps/dimse-worker/src/storage-scp).
 */
export const DimseCallerRequests = {
  List: {
    type: 'config-service.dimse-callers.list',
    version: 1,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: DimseCallersQueryData,
  } satisfies MessageContract<DimseCallersQueryData>,
} as const;
