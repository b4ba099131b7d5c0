import type { Readable } from 'node:stream';
import { isValidUid, type EncodableElement } from '@pacslink/dicom';
import {
  CONTEXT_ID,
  exchangeOnOwnAssociation,
  ExchangeFailure,
  type AcceptedContext,
} from '../association/request-exchange';
import { DimseError, DimseErrorCode, type DimseFailure } from '../dimse.errors';
import type { DimseConnectionOptions } from '../dimse.options';
import { serviceName, SopClassUid, TransferSyntaxUid, transferSyntaxName } from '../protocol/uids';
import { CommandSetError, decodeRequestCommand, encodeResponseCommand } from '../scp/scp-commands';
import { CommandField, encodeCGetRq, PRIORITY_CODES, type SubOperationCounts } from '../store/command-set';
import type { ProposedPresentationContext, RoleSelection } from '../upper-layer/pdu';
import type { IncomingCommand, UlAssociation } from '../upper-layer/ul-association';
import {
  buildRetrieveIdentifier,
  RETRIEVE_MESSAGE_ID,
  retrieveOptionsProblem,
  runRetrieve,
  type RetrieveOptions,
  type RetrieveQuery,
  type RetrieveResult,
} from './retrieve';

/** One instance a C-GET brings, as its C-STORE sub-operation and presentation context say. */
export interface RetrievedInstance {
  sopClassUid: string;
  sopInstanceUid: string;
  /** the transfer syntax of its context: the data set's bytes are in it */
  transferSyntaxUid: string;
}

/** The C-STORE-RSP status to answer (PS3.4 B.2.3): 0x0000, or a warning or failure with a reason. */
export interface SinkResult {
  status: number;
  errorComment?: string;
}

/**
 * Takes one data set: `dataSet` yields its bytes as they arrive (read it, or destroy it to drop
 * the rest); it is destroyed with the call's DimseError when the association fails inside it.
 * A rejection is answered 0xA700.
 */
export type GetSink = (instance: RetrievedInstance, dataSet: Readable) => Promise<SinkResult>;

export interface GetOptions extends RetrieveOptions {
  /** the storage SOP classes the PACS may send (each proposed with the SCP role) */
  storageSopClasses: readonly string[];
  /** the transfer syntaxes we take them in, one presentation context per (SOP class, syntax) */
  transferSyntaxes: readonly string[];
  sink: GetSink;
}

export interface GetResult extends RetrieveResult {
  /** the C-STORE sub-operations that arrived on the association */
  received: number;
}

/** 127 odd context ids (PS3.8 9.3.2.2) after the C-GET's own. */
const MAX_STORAGE_CONTEXTS = 127;
/**
 * What we announce as the largest PDU: it bounds what is read ahead of the sink (one PDU, plus the
 * stream's 256 KB on each side), and larger PDUs than find's 64 KB cost fewer turns for images.
 */
const GET_MAX_PDU_LENGTH = 256 * 1024;
/** PS3.4 B.2.3 / Table C.4-1 */
const STATUS_OUT_OF_RESOURCES = 0xa700;
const STATUS_SOP_CLASS_NOT_SUPPORTED = 0x0122;
const SOP_CLASS = SopClassUid.StudyRootQueryRetrieveInformationModelGet;

function getOptionsProblem(options: GetOptions): string | undefined {
  for (const field of ['storageSopClasses', 'transferSyntaxes'] as const) {
    const uids: unknown = options[field];
    if (!Array.isArray(uids) || uids.length === 0) return `${field} must name at least one UID`;
    const bad: unknown = (uids as unknown[]).find((uid) => typeof uid !== 'string' || !isValidUid(uid));
    if (bad !== undefined) return `${field} must hold UIDs (got ${JSON.stringify(bad)})`;
  }
  const pairs = new Set(options.storageSopClasses).size * new Set(options.transferSyntaxes).size;
  if (pairs > MAX_STORAGE_CONTEXTS) {
    return `storageSopClasses × transferSyntaxes is ${pairs} presentation contexts; at most ${MAX_STORAGE_CONTEXTS} fit one association`;
  }
  if (typeof options.sink !== 'function') return 'sink must be a function';
  return retrieveOptionsProblem(options);
}

/** One context per (SOP class, transfer syntax): the PACS can send each instance as it stores it. */
function storageContexts(options: GetOptions): ProposedPresentationContext[] {
  const contexts: ProposedPresentationContext[] = [];
  for (const sopClassUid of new Set(options.storageSopClasses)) {
    for (const transferSyntaxUid of new Set(options.transferSyntaxes)) {
      contexts.push({
        id: CONTEXT_ID + 2 * (contexts.length + 1),
        abstractSyntaxUid: sopClassUid,
        transferSyntaxUids: [transferSyntaxUid],
      });
    }
  }
  return contexts;
}

interface StorageContext {
  sopClassUid: string;
  transferSyntaxUid: string;
}

/** The storage contexts the peer accepted, by id; none accepted fails before anything is sent. */
function acceptedStorageContexts(
  association: UlAssociation,
  proposed: readonly ProposedPresentationContext[],
): Map<number, StorageContext> {
  const answers = new Map(association.accept.contexts.map((answer) => [answer.id, answer]));
  const accepted = new Map<number, StorageContext>();
  for (const context of proposed) {
    const answer = answers.get(context.id);
    if (answer?.result !== 0 || answer.transferSyntaxUid === undefined) continue;
    // The sink is told the context's syntax and stores the bytes under it: a peer may only pick
    // one we proposed (the caller's list), never one of its own.
    if (!context.transferSyntaxUids.includes(answer.transferSyntaxUid)) {
      const detail = `the ${serviceName(context.abstractSyntaxUid)} context was accepted with ${transferSyntaxName(answer.transferSyntaxUid)}, which was not proposed`;
      throw new ExchangeFailure({ kind: 'protocol', phase: 'association', detail }, false);
    }
    accepted.set(context.id, {
      sopClassUid: context.abstractSyntaxUid,
      transferSyntaxUid: answer.transferSyntaxUid,
    });
  }
  if (accepted.size === 0) {
    throw new ExchangeFailure(
      {
        kind: 'context-rejected',
        result: answers.get(proposed[0].id)?.result,
        abstractSyntaxUid: proposed[0].abstractSyntaxUid,
      },
      true,
    );
  }
  return accepted;
}

function protocolFailure(detail: string): ExchangeFailure {
  return new ExchangeFailure({ kind: 'protocol', phase: 'response', detail }, false);
}

/**
 * One C-STORE sub-operation: its data set streamed to the sink (the upper layer stops reading the
 * socket while the sink does not read), then, once the whole data set is in, the C-STORE-RSP with
 * the sink's status.
 */
async function storeSubOperation(
  association: UlAssociation,
  contexts: ReadonlyMap<number, StorageContext>,
  incoming: IncomingCommand,
  sink: GetSink,
  options: DimseConnectionOptions,
): Promise<void> {
  const context = contexts.get(incoming.contextId);
  if (context === undefined) {
    throw protocolFailure(`a command on presentation context ${incoming.contextId}, which was not accepted`);
  }
  let request;
  try {
    request = decodeRequestCommand(incoming.bytes);
  } catch (error) {
    if (!(error instanceof CommandSetError)) throw error;
    throw protocolFailure(`unreadable sub-operation command: ${error.message}`);
  }
  const { dataSet } = incoming;
  if (request.commandField !== CommandField.CStoreRq || dataSet === undefined) {
    throw protocolFailure(
      `command 0x${request.commandField.toString(16)}${dataSet === undefined ? ' without a data set' : ''} on a storage context; only C-STORE-RQ is expected there`,
    );
  }
  const sopInstanceUid = request.affectedSopInstanceUid;
  if (sopInstanceUid === undefined || !isValidUid(sopInstanceUid)) {
    throw protocolFailure(`a C-STORE-RQ without a valid (0000,1000) AffectedSOPInstanceUID`);
  }
  let result: SinkResult;
  if (request.affectedSopClassUid !== context.sopClassUid) {
    dataSet.readable.destroy();
    result = {
      status: STATUS_SOP_CLASS_NOT_SUPPORTED,
      errorComment: `SOP class ${String(request.affectedSopClassUid)} on the context of ${context.sopClassUid}`,
    };
  } else {
    try {
      result = await sink(
        { sopClassUid: context.sopClassUid, sopInstanceUid, transferSyntaxUid: context.transferSyntaxUid },
        dataSet.readable,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      options.logger?.warn({ msg: 'C-GET sink failed; answered 0xA700', sopInstanceUid, reason: message });
      result = { status: STATUS_OUT_OF_RESOURCES, errorComment: `not stored: ${message}` };
    }
  }
  // A sink that stopped early: the rest of the data set is dropped as it arrives.
  if (!dataSet.readable.readableEnded) dataSet.readable.destroy();
  // PS3.7: the response answers a whole request; rejects if the association fails first.
  await dataSet.received;
  const buffers: Buffer[] = [];
  association.pDataBuffers(
    incoming.contextId,
    true,
    encodeResponseCommand({
      commandField: CommandField.CStoreRsp,
      messageIdBeingRespondedTo: request.messageId,
      affectedSopClassUid: context.sopClassUid,
      affectedSopInstanceUid: sopInstanceUid,
      status: result.status,
      ...(result.errorComment === undefined ? {} : { errorComment: result.errorComment }),
    }),
    true,
    buffers,
  );
  association.write(buffers);
}

async function runGet(
  association: UlAssociation,
  context: AcceptedContext,
  describe: (failure: DimseFailure) => DimseError,
  options: DimseConnectionOptions,
  identifier: readonly EncodableElement[],
  get: GetOptions,
  proposed: readonly ProposedPresentationContext[],
): Promise<{ value: Omit<GetResult, 'elapsedMs'>; aborted?: boolean }> {
  const contexts = acceptedStorageContexts(association, proposed);
  const granted = new Set(
    (association.accept.roles ?? []).filter((role) => role.scpRole).map((role) => role.sopClassUid),
  );
  options.logger?.debug({
    msg: 'C-GET storage contexts',
    proposed: proposed.length,
    accepted: contexts.size,
    scpRoleGranted: [...granted].length,
  });
  association.streamDatasets(new Set(contexts.keys()), describe);
  let received = 0;
  const explicitVr = context.transferSyntaxUid !== TransferSyntaxUid.ImplicitVRLittleEndian;
  const { value, aborted } = await runRetrieve(association, {
    ...get,
    command: 'C-GET',
    contextId: context.id,
    explicitVr,
    request: encodeCGetRq({
      sopClassUid: SOP_CLASS,
      messageId: RETRIEVE_MESSAGE_ID,
      priority: PRIORITY_CODES[get.priority ?? 'MEDIUM'],
    }),
    identifier,
    responseField: CommandField.CGetRsp,
    pduTimeoutMs: options.pduTimeoutMs,
    logger: options.logger,
    onSubOperation: async (incoming) => {
      received++;
      await storeSubOperation(association, contexts, incoming, get.sink, options);
    },
    checkFinal: (counts: SubOperationCounts): DimseFailure | undefined =>
      (counts.completed ?? 0) + (counts.warning ?? 0) > received
        ? {
            kind: 'instances-not-received',
            received,
            subOperations: counts,
            scpRoleGranted: [...contexts.values()].some((storage) => granted.has(storage.sopClassUid)),
          }
        : undefined,
  });
  return { value: { ...value, received }, ...(aborted === undefined ? {} : { aborted }) };
}

/**
 * Study Root Query/Retrieve GET (PS3.4 C.4.3): one association that proposes the C-GET context and
 * one storage context per (SOP class, transfer syntax), each SOP class with the SCP role (PS3.7
 * D.3.3.4). The PACS answers with C-STORE sub-operations on the same association: each data set is
 * streamed to `sink` and answered with its status. A PACS that does not accept the C-GET context
 * (no C-GET) fails PRESENTATION_CONTEXT_REJECTED naming it (`details.abstractSyntaxUid`) before
 * anything is sent; instances reported completed that never came fail INSTANCES_NOT_RECEIVED.
 */
export async function get(
  options: DimseConnectionOptions,
  query: RetrieveQuery,
  getOptions: GetOptions,
): Promise<GetResult> {
  const problem = getOptionsProblem(getOptions);
  if (problem !== undefined) throw new DimseError(DimseErrorCode.INVALID_REQUEST, problem);
  const identifier = buildRetrieveIdentifier(query);
  if (getOptions.signal?.aborted === true) {
    throw new DimseError(DimseErrorCode.CANCELLED, 'C-GET cancelled before it started; nothing was sent');
  }
  const proposed = storageContexts(getOptions);
  const roles: RoleSelection[] = [...new Set(getOptions.storageSopClasses)].map((sopClassUid) => ({
    sopClassUid,
    scuRole: false,
    scpRole: true,
  }));
  const { value, elapsedMs } = await exchangeOnOwnAssociation(options, {
    command: 'C-GET',
    abstractSyntaxUid: SOP_CLASS,
    moreContexts: proposed,
    negotiation: { roles, maxPduLength: GET_MAX_PDU_LENGTH },
    run: (association, context, describe) =>
      runGet(association, context, describe, options, identifier, getOptions, proposed),
  });
  options.logger?.debug({
    msg: 'C-GET complete',
    level: query.level,
    completed: value.completed,
    failed: value.failed,
    warning: value.warning,
    received: value.received,
    elapsedMs,
  });
  return { ...value, elapsedMs };
}
