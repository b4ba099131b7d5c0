import type { MessageContract, PacsConfigType, TransferMethod } from '@pacslink/contracts';
import type {
  ExportBatchData,
  ImportBatchData,
  ImportPlanData,
  WorklistFiltersData,
  WorklistTargetData,
} from '@pacslink/contracts';
import type { QueryFilterLevel } from '@pacslink/dicom';
import type { SecretCipher } from '@pacslink/secrets';
import type { Capability } from '../dto/list-pacs-configs.query';
import type { PacsConfig } from '../pacs-config.entity';

/** A configuration's boolean column that switches one of its capabilities on. */
export type CapabilitySwitch = 'cStore' | 'queryRetrieve' | 'mwl' | 'stowRs' | 'qidoRs';

/** The capabilities that move studies, which every protocol can offer. */
export type TransferCapability = Extract<Capability, 'import' | 'export'>;

/** A command ready for the outbox: its contract and its data, checked together (see commandOf). */
export interface OutboundCommand {
  contract: MessageContract<object>;
  data: object;
}

export function commandOf<T extends object>(contract: MessageContract<T>, data: T): OutboundCommand {
  return { contract, data };
}

/** What building an export batch command may need besides the configuration. */
export interface ExportCommandContext {
  cipher: Pick<SecretCipher, 'reencrypt'>;
  /** settings.defaultCallingAeTitle: the AE title a C-STORE association calls from. */
  defaultCallingAeTitle: string;
  studyInstanceUid: string;
}

/** What building an import plan or retrieve command may need besides the configuration. */
export interface ImportCommandContext {
  cipher: Pick<SecretCipher, 'reencrypt'>;
  /** settings.defaultCallingAeTitle: a DIMSE import calls from it unless the configuration names its own. */
  defaultCallingAeTitle: string;
}

/** What building a retrieve command needs besides the plan's: the transfer's method now. */
export interface ImportBatchContext extends ImportCommandContext {
  /** The transfer's method: C-MOVE once a C-GET gave way to it (the fallback). */
  method: TransferMethod;
}

/** A query as the API asked it, checked, before it becomes the protocol's request. */
export interface PacsQuery {
  level: QueryFilterLevel;
  /** Matching keys by DICOM keyword. */
  keys: Record<string, string>;
  /** The DICOM keywords to return. */
  returnKeys: string[];
  limit: number;
  offset: number;
}

/** What building a query request may need besides the configuration. */
export interface QueryCommandContext {
  cipher: Pick<SecretCipher, 'reencrypt'>;
  /** settings.defaultCallingAeTitle: a C-FIND calls from it unless the configuration names its own. */
  defaultCallingAeTitle: string;
}

/** What building a connection test request may need besides the configuration. */
export interface ConnectionTestContext {
  cipher: Pick<SecretCipher, 'reencrypt'>;
  /** The calling AE title the user chose, checked, or the default; asked only by a protocol that calls. */
  callingAeTitle: () => Promise<string>;
}

/**
 * What differs between the configuration types (DIMSE, DICOMweb), in one place per protocol:
 * which capabilities a configuration may offer and which of its switches turns each on, how many
 * batches of one PACS may be out at once, which worker speaks it and the commands it is sent.
 * Features look the profile up (protocolOf) instead of branching on `type`.
 */
export interface PacsProtocol {
  readonly type: PacsConfigType;
  /** The worker that speaks the protocol, as named in answers to the user. */
  readonly worker: 'dimse-worker' | 'dicomweb-worker';
  /**
   * For each capability the protocol can offer, the configuration's switch that turns it on (every
   * protocol can move studies both ways; only some have a worklist).
   */
  readonly capabilitySwitches: Readonly<
    Record<TransferCapability, CapabilitySwitch> & Partial<Record<Capability, CapabilitySwitch>>
  >;
  /** The transfer method of an export to such a PACS. */
  readonly exportMethod: TransferMethod;
  /** How many batches of one PACS may be out at once, across every replica. */
  batchSlots(row: PacsConfig): number;
  /** The worker command that sends one export batch to the PACS. */
  exportBatchCommand(row: PacsConfig, batch: ExportBatchData, context: ExportCommandContext): OutboundCommand;
  /** The transfer method an import from the PACS starts with. */
  importMethod(row: PacsConfig): TransferMethod;
  /** The worker command that asks the PACS what a study (or series) holds: an import's plan batch. */
  importPlanCommand(row: PacsConfig, plan: ImportPlanData, context: ImportCommandContext): OutboundCommand;
  /** The worker command that retrieves one batch of an import's instances into the study store. */
  importBatchCommand(row: PacsConfig, batch: ImportBatchData, context: ImportBatchContext): OutboundCommand;
  /** The worker request that queries the PACS. */
  queryCommand(row: PacsConfig, query: PacsQuery, context: QueryCommandContext): OutboundCommand;
  /**
   * The mwl-mpps-service request that queries the PACS's Modality Worklist; only protocols with a
   * worklist have it (capabilitySwitches.worklist).
   */
  worklistQueryCommand?(
    row: PacsConfig,
    filters: WorklistFiltersData,
    context: Pick<QueryCommandContext, 'defaultCallingAeTitle'>,
  ): OutboundCommand;
  /**
   * The MPPS SCP mwl-mpps-service calls for the configuration's tasks (PS3.4 F.7); undefined when
   * the configuration does not offer MPPS (its `mpps` is off). Only protocols with MPPS have it.
   */
  mppsTarget?(
    row: PacsConfig,
    context: Pick<QueryCommandContext, 'defaultCallingAeTitle'>,
  ): WorklistTargetData | undefined;
  /** The worker request that tests the connection to the PACS. */
  connectionTestCommand(row: PacsConfig, context: ConnectionTestContext): Promise<OutboundCommand>;
  /** Where the configuration's connections go (for the audit and logs), never with a secret. */
  destination(row: PacsConfig): Record<string, unknown>;
}
