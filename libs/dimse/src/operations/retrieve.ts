import {
  DatasetParseError,
  encodeDataset,
  isValidUid,
  parseDataset,
  type EncodableElement,
} from '@pacslink/dicom';
import { ExchangeFailure, readResponse, type ExchangeResult } from '../association/request-exchange';
import { DimseError, DimseErrorCode, type DimseFailure } from '../dimse.errors';
import type { DimseLogger } from '../dimse.options';
import { formatStatus, Status, statusClass } from '../protocol/status';
import {
  encodeCCancelRq,
  PRIORITY_CODES,
  type DimsePriority,
  uidList,
  type DecodedCommand,
  type SubOperationCounts,
} from '../store/command-set';
import type { IncomingCommand, UlAssociation } from '../upper-layer/ul-association';

/**
 * What a C-GET or C-MOVE retrieves (Study Root, PS3.4 C.4.2.2.1 and C.6.2.1): one study, some of
 * its series, or some instances of one series, by UID (a list is UID list matching).
 */
export interface RetrieveQuery {
  level: 'STUDY' | 'SERIES' | 'IMAGE';
  studyInstanceUid: string;
  /** SERIES: the series to retrieve; IMAGE: the one series the instances belong to */
  seriesInstanceUids?: readonly string[];
  /** IMAGE: the instances to retrieve */
  sopInstanceUids?: readonly string[];
}

export interface RetrieveOptions {
  /** each pending response's counts, as the PACS reported them; must not throw */
  onProgress?: (counts: SubOperationCounts) => void;
  /** C-CANCEL, then the final response awaited, release, CANCELLED */
  signal?: AbortSignal;
  priority?: DimsePriority;
}

/** The final response of a C-GET or C-MOVE that did not fail. */
export interface RetrieveResult {
  status: 'success' | 'warning';
  statusCode: number;
  completed: number;
  failed: number;
  warning: number;
  /** (0008,0058) Failed SOP Instance UID List of the final response; empty when it named none */
  failedSopInstanceUids: string[];
  elapsedMs: number;
}

export const RETRIEVE_MESSAGE_ID = 1;
/** PS3.5 6.2: a UI value (the whole list, with its separators) fits a 16-bit length. */
const MAX_UID_LIST_BYTES = 0xfffe;

const TAGS = Object.freeze({
  QueryRetrieveLevel: '00080052',
  SopInstanceUid: '00080018',
  FailedSopInstanceUidList: '00080058',
  StudyInstanceUid: '0020000D',
  SeriesInstanceUid: '0020000E',
} as const);

function invalid(problem: string): DimseError {
  return new DimseError(DimseErrorCode.INVALID_REQUEST, problem);
}

function uidListValue(field: string, uids: readonly string[] | undefined): string {
  if (uids === undefined || uids.length === 0) throw invalid(`${field} must name at least one UID`);
  for (const uid of uids) {
    if (typeof uid !== 'string' || !isValidUid(uid)) {
      throw invalid(`${field} must hold UIDs of at most 64 characters (got ${JSON.stringify(uid)})`);
    }
  }
  const value = uids.join('\\');
  if (value.length > MAX_UID_LIST_BYTES) {
    throw invalid(`${field} is too long for one request (${uids.length} UIDs): split it`);
  }
  return value;
}

/** The identifier: QueryRetrieveLevel and the unique keys down to the level, nothing else. */
export function buildRetrieveIdentifier(query: RetrieveQuery): EncodableElement[] {
  const ui = (tag: string, value: string): EncodableElement => ({
    tag,
    vr: 'UI',
    value: Buffer.from(value, 'latin1'),
  });
  const elements: EncodableElement[] = [
    { tag: TAGS.QueryRetrieveLevel, vr: 'CS', value: Buffer.from(String(query.level), 'latin1') },
    ui(TAGS.StudyInstanceUid, uidListValue('studyInstanceUid', [query.studyInstanceUid])),
  ];
  switch (query.level) {
    case 'STUDY':
      if (query.seriesInstanceUids !== undefined || query.sopInstanceUids !== undefined) {
        throw invalid('a STUDY retrieve names the study only');
      }
      return elements;
    case 'SERIES':
      if (query.sopInstanceUids !== undefined) throw invalid('a SERIES retrieve names no instances');
      return [
        ...elements,
        ui(TAGS.SeriesInstanceUid, uidListValue('seriesInstanceUids', query.seriesInstanceUids)),
      ];
    case 'IMAGE':
      if (query.seriesInstanceUids?.length !== 1) {
        throw invalid('an IMAGE retrieve names exactly one series (seriesInstanceUids)');
      }
      return [
        ...elements,
        ui(TAGS.SeriesInstanceUid, uidListValue('seriesInstanceUids', query.seriesInstanceUids)),
        ui(TAGS.SopInstanceUid, uidListValue('sopInstanceUids', query.sopInstanceUids)),
      ];
    default:
      throw invalid(`level must be STUDY, SERIES or IMAGE (got ${JSON.stringify(query.level)})`);
  }
}

export function retrieveOptionsProblem(options: RetrieveOptions): string | undefined {
  if (options.priority !== undefined && !(options.priority in PRIORITY_CODES)) {
    return `priority must be LOW, MEDIUM or HIGH (got ${JSON.stringify(options.priority)})`;
  }
  return undefined;
}

/** (0008,0058) of a final response: in its identifier, or where DCMTK puts it, its command set. */
function failedUids(response: DecodedCommand, identifier: Buffer | undefined, explicitVr: boolean): string[] {
  if (identifier === undefined) return response.failedSopInstanceUids ?? [];
  let elements;
  try {
    elements = parseDataset(identifier, explicitVr);
  } catch (error) {
    if (!(error instanceof DatasetParseError)) throw error;
    const detail = `unreadable identifier in the final response: ${error.message}`;
    throw new ExchangeFailure({ kind: 'protocol', phase: 'response', detail }, true);
  }
  const list = elements.find((element) => element.tag === TAGS.FailedSopInstanceUidList);
  return list === undefined ? [] : uidList(list.value);
}

export interface RetrieveExchange extends RetrieveOptions {
  command: 'C-GET' | 'C-MOVE';
  contextId: number;
  explicitVr: boolean;
  /** the C-GET-RQ or C-MOVE-RQ command set */
  request: Buffer;
  identifier: readonly EncodableElement[];
  responseField: number;
  pduTimeoutMs: number;
  logger?: DimseLogger;
  /** commands on other contexts (a C-GET's C-STORE sub-operations); without it they are a protocol error */
  onSubOperation?(incoming: IncomingCommand): Promise<void>;
  /** a reason to fail a final response that is not a failure status (C-GET: instances missing) */
  checkFinal?(counts: SubOperationCounts): DimseFailure | undefined;
}

/**
 * Sends the request and its identifier, then reads responses until the final one: pendings
 * (0xFF00) report sub-operation counts, commands on other contexts are sub-operations. The caller's
 * signal sends C-CANCEL-RQ once; a peer that goes on for a whole PDU timeout after it is aborted.
 */
export async function runRetrieve(
  association: UlAssociation,
  exchange: RetrieveExchange,
): Promise<ExchangeResult<Omit<RetrieveResult, 'elapsedMs'>>> {
  const { contextId, signal, logger } = exchange;
  association.keepDatasets();
  const buffers: Buffer[] = [];
  association.pDataBuffers(contextId, true, exchange.request, true, buffers);
  association.pDataBuffers(
    contextId,
    false,
    encodeDataset(exchange.identifier, exchange.explicitVr),
    true,
    buffers,
  );
  association.write(buffers);

  let counts: SubOperationCounts = {};
  let cancelTimer: NodeJS.Timeout | undefined;
  const cancel = (): void => {
    if (cancelTimer !== undefined) return;
    // Timed, not checked at each response: a PACS may go on inside one data set that never ends.
    cancelTimer = setTimeout(() => {
      logger?.warn({
        msg: `the PACS went on with the ${exchange.command} for ${exchange.pduTimeoutMs} ms after C-CANCEL; aborting the association`,
      });
      association.abortWith(cancelled(false).failure);
    }, exchange.pduTimeoutMs);
    const request: Buffer[] = [];
    association.pDataBuffers(
      contextId,
      true,
      encodeCCancelRq({ messageIdBeingRespondedTo: RETRIEVE_MESSAGE_ID }),
      true,
      request,
    );
    try {
      association.write(request);
    } catch {
      // The association has failed already; the next read reports how.
    }
  };
  const cancelled = (releasable: boolean): ExchangeFailure =>
    new ExchangeFailure(
      {
        kind: 'cancelled',
        detail: `stopped after ${counts.completed ?? 0} completed sub-operations${releasable ? '; the association was released' : '; the PACS ignored C-CANCEL and was aborted'}`,
        subOperations: counts,
      },
      releasable,
    );
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    if (signal?.aborted === true) cancel();
    for (;;) {
      const incoming = await association.nextCommand();
      if (incoming.contextId !== contextId) {
        if (exchange.onSubOperation === undefined) {
          const detail = `a command on presentation context ${incoming.contextId}, which the ${exchange.command} does not use`;
          throw new ExchangeFailure({ kind: 'protocol', phase: 'response', detail }, false);
        }
        await exchange.onSubOperation(incoming);
        continue;
      }
      const response = readResponse(incoming.bytes, exchange.responseField, RETRIEVE_MESSAGE_ID);
      const identifier = response.dataSetPresent ? await association.nextDataset() : undefined;
      counts = { ...counts, ...response.subOperations };
      switch (statusClass(response.status)) {
        case 'pending':
          try {
            exchange.onProgress?.(response.subOperations ?? {});
          } catch {
            // onProgress must not throw; a caller's bug does not end the retrieve.
          }
          continue;
        case 'success':
        case 'warning':
        case 'cancel': {
          if (signal?.aborted === true) throw cancelled(true);
          if (response.status === Status.Cancel) {
            throw new ExchangeFailure(
              {
                kind: 'status',
                status: response.status,
                errorComment: response.errorComment,
                subOperations: counts,
              },
              true,
            );
          }
          const failedSopInstanceUids = failedUids(response, identifier?.bytes, exchange.explicitVr);
          const problem = exchange.checkFinal?.(counts);
          if (problem !== undefined) throw new ExchangeFailure(problem, true);
          if (statusClass(response.status) === 'warning') {
            logger?.warn({
              msg: `${exchange.command} completed with a warning status`,
              status: formatStatus(response.status),
              failed: counts.failed ?? 0,
              warning: counts.warning ?? 0,
            });
          }
          return {
            value: {
              status: statusClass(response.status) === 'warning' ? 'warning' : 'success',
              statusCode: response.status,
              completed: counts.completed ?? 0,
              failed: counts.failed ?? 0,
              warning: counts.warning ?? 0,
              failedSopInstanceUids,
            },
          };
        }
        case 'failure':
          throw new ExchangeFailure(
            {
              kind: 'status',
              status: response.status,
              errorComment: response.errorComment,
              subOperations: counts,
              failedSopInstanceUids: failedUids(response, identifier?.bytes, exchange.explicitVr),
            },
            true,
          );
      }
    }
  } finally {
    clearTimeout(cancelTimer);
    signal?.removeEventListener('abort', cancel);
  }
}
