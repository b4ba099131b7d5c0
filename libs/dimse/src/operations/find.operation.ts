import {
  DatasetParseError,
  encodeDataset,
  isKnownCharacterSet,
  parseDataset,
  toDicomJson,
  type DicomJson,
  type EncodableElement,
} from '@pacslink/dicom';
import {
  exchangeOnOwnAssociation,
  ExchangeFailure,
  nextResponse,
  type ExchangeResult,
} from '../association/request-exchange';
import { DimseError, DimseErrorCode } from '../dimse.errors';
import type { DimseConnectionOptions, DimseLogger } from '../dimse.options';
import { formatStatus, Status, statusClass } from '../protocol/status';
import { SopClassUid, TransferSyntaxUid } from '../protocol/uids';
import {
  CommandField,
  encodeCCancelRq,
  encodeCFindRq,
  PRIORITY_CODES,
  type DimsePriority,
} from '../store/command-set';
import type { UlAssociation } from '../upper-layer/ul-association';
import { buildFindIdentifier, type FindIdentifierQuery } from './find-identifier';

/** What every C-FIND takes besides its identifier, whatever the information model. */
export interface FindControls {
  /**
   * Stop after this many matches: the rest is cancelled with C-CANCEL (PS3.4 C.4.1.2.3) and
   * matches that were already on their way are dropped.
   */
  limit?: number;
  /**
   * The character set of answers that do not declare (0008,0005) (or declare one this library does
   * not know), e.g. the PACS's configured encoding. Without it, such text is read as UTF-8 when
   * valid and ISO 8859-1 otherwise.
   */
  fallbackCharset?: string;
  priority?: DimsePriority;
  /** stops the query: C-CANCEL, the final response awaited, release, then CANCELLED */
  signal?: AbortSignal;
}

export interface FindQuery extends FindIdentifierQuery, FindControls {}

/** One C-FIND of an information model: its SOP class, its identifier, how a match is read. */
export interface FindExchange<T> {
  sopClassUid: string;
  identifier: readonly EncodableElement[];
  decode(bytes: Buffer, explicitVr: boolean): T;
}

const QUERY_RETRIEVE_LEVEL = '00080052';
const MESSAGE_ID = 1;

export function findControlsProblem(query: FindControls): string | undefined {
  if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 1)) {
    return 'limit must be a positive integer';
  }
  if (query.fallbackCharset !== undefined && !isKnownCharacterSet(query.fallbackCharset)) {
    return `fallbackCharset ${query.fallbackCharset} is not a Specific Character Set this library knows`;
  }
  if (query.priority !== undefined && !(query.priority in PRIORITY_CODES)) {
    return `priority must be LOW, MEDIUM or HIGH (got ${JSON.stringify(query.priority)})`;
  }
  return undefined;
}

/** Tells the logger of an answer whose declared character set this library cannot decode. */
export function unsupportedCharsetWarning(
  query: FindControls,
  logger?: DimseLogger,
): (terms: readonly string[]) => void {
  return (terms) =>
    logger?.warn({
      msg: 'C-FIND answer declares a Specific Character Set this library cannot decode; used the fallback',
      specificCharacterSet: terms.join('\\'),
      fallbackCharset: query.fallbackCharset ?? 'UTF-8, else ISO 8859-1',
    });
}

/** One match as DICOM JSON, its text decoded by the match's own (0008,0005) (notes trap 14). */
function decodeMatch(bytes: Buffer, explicitVr: boolean, query: FindQuery, logger?: DimseLogger): DicomJson {
  const json = toDicomJson(parseDataset(bytes, explicitVr), {
    fallbackCharset: query.fallbackCharset,
    onUnsupportedCharset: unsupportedCharsetWarning(query, logger),
  });
  // It echoes the request; QIDO-RS answers do not carry it either.
  delete json[QUERY_RETRIEVE_LEVEL];
  return json;
}

/**
 * Sends the C-FIND-RQ and its identifier, then collects every pending match (0xFF00 and 0xFF01,
 * which is pending too: notes traps 3 and 12) until the final response. Reaching `limit` or the
 * caller's signal sends C-CANCEL-RQ once; matches after it are dropped. A peer that ignores the
 * C-CANCEL for a whole PDU timeout is aborted.
 */
async function collectMatches<T>(
  association: UlAssociation,
  contextId: number,
  explicitVr: boolean,
  exchange: FindExchange<T>,
  query: FindControls,
  logger: DimseLogger | undefined,
  pduTimeoutMs: number,
): Promise<ExchangeResult<T[]>> {
  association.keepDatasets();
  const buffers: Buffer[] = [];
  const priority = PRIORITY_CODES[query.priority ?? 'MEDIUM'];
  association.pDataBuffers(
    contextId,
    true,
    encodeCFindRq({ sopClassUid: exchange.sopClassUid, messageId: MESSAGE_ID, priority }),
    true,
    buffers,
  );
  association.pDataBuffers(contextId, false, encodeDataset(exchange.identifier, explicitVr), true, buffers);
  association.write(buffers);

  const results: T[] = [];
  let cancelDeadline: number | undefined;
  let optionalKeysWarned = false;
  const cancel = (): void => {
    if (cancelDeadline !== undefined) return;
    cancelDeadline = performance.now() + pduTimeoutMs;
    const request: Buffer[] = [];
    association.pDataBuffers(
      contextId,
      true,
      encodeCCancelRq({ messageIdBeingRespondedTo: MESSAGE_ID }),
      true,
      request,
    );
    try {
      association.write(request);
    } catch {
      // The association has failed already; the next read reports how.
    }
  };
  const stopped = (): ExchangeFailure =>
    new ExchangeFailure(
      { kind: 'cancelled', detail: `stopped after ${results.length} matches; the association was released` },
      true,
    );
  const { signal } = query;
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    if (signal?.aborted === true) cancel();
    for (;;) {
      const response = await nextResponse(association, CommandField.CFindRsp, MESSAGE_ID);
      const identifier = response.dataSetPresent ? await association.nextDataset() : undefined;
      switch (statusClass(response.status)) {
        case 'pending':
          if (response.status === Status.PendingOptionalKeysNotSupported && !optionalKeysWarned) {
            optionalKeysWarned = true;
            logger?.debug({ msg: 'C-FIND pending 0xFF01: the PACS does not support some optional keys' });
          }
          if (cancelDeadline !== undefined) {
            if (performance.now() < cancelDeadline) continue;
            // It ignores our C-CANCEL: every match wanted is in, nothing more to wait for.
            logger?.warn({
              msg: 'the PACS kept sending C-FIND matches after C-CANCEL; aborting the association',
            });
            association.abort();
            if (signal?.aborted === true) throw new ExchangeFailure(stopped().failure, false);
            return { value: results, aborted: true };
          }
          if (identifier === undefined) {
            logger?.warn({ msg: 'C-FIND pending response without an identifier; ignored' });
            continue;
          }
          try {
            results.push(exchange.decode(identifier.bytes, explicitVr));
          } catch (error) {
            if (!(error instanceof DatasetParseError)) throw error;
            const detail = `unreadable C-FIND identifier: ${error.message}`;
            throw new ExchangeFailure({ kind: 'protocol', phase: 'response', detail }, false);
          }
          if (query.limit !== undefined && results.length >= query.limit) cancel();
          continue;
        case 'success':
        case 'warning':
        case 'cancel':
          if (signal?.aborted === true) throw stopped();
          if (response.status === Status.Cancel && cancelDeadline === undefined) {
            throw new ExchangeFailure(
              { kind: 'status', status: response.status, errorComment: response.errorComment },
              true,
            );
          }
          if (statusClass(response.status) === 'warning') {
            logger?.warn({
              msg: 'C-FIND completed with a warning status',
              status: formatStatus(response.status),
            });
          }
          return { value: results };
        case 'failure':
          throw new ExchangeFailure(
            { kind: 'status', status: response.status, errorComment: response.errorComment },
            true,
          );
      }
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

/**
 * One association, one C-FIND of `exchange`'s information model, every match read by its decode:
 * the engine of find() and findWorklist().
 */
export async function findMatches<T>(
  options: DimseConnectionOptions,
  query: FindControls,
  exchange: FindExchange<T>,
): Promise<{ value: T[]; elapsedMs: number }> {
  const problem = findControlsProblem(query);
  if (problem !== undefined) throw new DimseError(DimseErrorCode.INVALID_REQUEST, problem);
  if (query.signal?.aborted === true) {
    throw new DimseError(DimseErrorCode.CANCELLED, 'C-FIND cancelled before it started; nothing was sent');
  }
  return exchangeOnOwnAssociation(options, {
    command: 'C-FIND',
    abstractSyntaxUid: exchange.sopClassUid,
    run: (association, context) =>
      collectMatches(
        association,
        context.id,
        context.transferSyntaxUid !== TransferSyntaxUid.ImplicitVRLittleEndian,
        exchange,
        query,
        options.logger,
        options.pduTimeoutMs,
      ),
  });
}

/**
 * Study Root Query/Retrieve Information Model FIND (PS3.4 C.4.1): one association, one C-FIND,
 * every match as DICOM JSON (PS3.18 F.2) with its text decoded per the answer's own character set.
 */
export async function find(options: DimseConnectionOptions, query: FindQuery): Promise<DicomJson[]> {
  const problem = findControlsProblem(query);
  if (problem !== undefined) throw new DimseError(DimseErrorCode.INVALID_REQUEST, problem);
  const { value, elapsedMs } = await findMatches(options, query, {
    sopClassUid: SopClassUid.StudyRootQueryRetrieveInformationModelFind,
    identifier: buildFindIdentifier(query),
    decode: (bytes, explicitVr) => decodeMatch(bytes, explicitVr, query, options.logger),
  });
  options.logger?.debug({
    msg: 'C-FIND complete',
    level: query.level,
    keys: Object.keys(query.keys),
    matches: value.length,
    elapsedMs,
  });
  return value;
}
