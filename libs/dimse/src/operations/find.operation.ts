import { runAssociation, type DimseOperation } from '../association/association.runner';
import { dcmjsDimseTransport } from '../association/dcmjs-dimse.transport';
import type { DimsePriority } from '../association/transport';
import { DimseError, DimseErrorCode, type DimseFailure } from '../dimse.errors';
import type { DimseConnectionOptions, DimseLogger } from '../dimse.options';
import { isKnownCharacterSet } from '@pacslink/dicom';
import { encodeDataset, type EncodableElement } from '../dicom/dataset-encoder';
import { DatasetParseError, parseDataset } from '../dicom/dataset-parser';
import { toDicomJson, type DicomJson } from '@pacslink/dicom';
import { formatStatus, Status, statusClass } from '../protocol/status';
import { SopClassUid, TransferSyntaxUid } from '../protocol/uids';
import { buildFindIdentifier, type FindIdentifierQuery } from './find-identifier';

export interface FindQuery extends FindIdentifierQuery {
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
}

const QUERY_RETRIEVE_LEVEL = '00080052';

function identifierProblem(query: FindQuery): string | undefined {
  if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 1)) {
    return 'limit must be a positive integer';
  }
  if (query.fallbackCharset !== undefined && !isKnownCharacterSet(query.fallbackCharset)) {
    return `fallbackCharset ${query.fallbackCharset} is not a Specific Character Set this library knows`;
  }
  return undefined;
}

/** Study Root C-FIND as an operation: collects every pending match until the final status. */
export function findOperation(
  query: FindQuery,
  elements: readonly EncodableElement[],
  logger?: DimseLogger,
): DimseOperation<DicomJson[]> {
  const results: DicomJson[] = [];
  let cancelled = false;
  let optionalKeysWarned = false;

  const decode = (identifier: { bytes: Buffer; transferSyntaxUid: string }): DicomJson => {
    const explicitVr = identifier.transferSyntaxUid !== TransferSyntaxUid.ImplicitVRLittleEndian;
    const json = toDicomJson(parseDataset(identifier.bytes, explicitVr), {
      fallbackCharset: query.fallbackCharset,
      onUnsupportedCharset: (terms) =>
        logger?.warn({
          msg: 'C-FIND answer declares a Specific Character Set this library cannot decode; used the fallback',
          specificCharacterSet: terms.join('\\'),
          fallbackCharset: query.fallbackCharset ?? 'UTF-8, else ISO 8859-1',
        }),
    });
    // It echoes the request; QIDO-RS answers do not carry it either.
    delete json[QUERY_RETRIEVE_LEVEL];
    return json;
  };

  return {
    abstractSyntaxUid: SopClassUid.StudyRootQueryRetrieveInformationModelFind,
    request: {
      command: 'C-FIND',
      abstractSyntaxUid: SopClassUid.StudyRootQueryRetrieveInformationModelFind,
      priority: query.priority ?? 'MEDIUM',
      encodeIdentifier: (transferSyntaxUid) =>
        encodeDataset(elements, transferSyntaxUid !== TransferSyntaxUid.ImplicitVRLittleEndian),
    },
    onResponse: (response, control): DimseFailure | undefined => {
      switch (statusClass(response.status)) {
        case 'pending': {
          if (response.status === Status.PendingOptionalKeysNotSupported && !optionalKeysWarned) {
            optionalKeysWarned = true;
            logger?.debug({ msg: 'C-FIND pending 0xFF01: the PACS does not support some optional keys' });
          }
          if (cancelled) return undefined;
          if (response.identifier === undefined) {
            logger?.warn({ msg: 'C-FIND pending response without an identifier; ignored' });
            return undefined;
          }
          try {
            results.push(decode(response.identifier));
          } catch (error) {
            if (!(error instanceof DatasetParseError)) throw error;
            return {
              kind: 'protocol',
              phase: 'response',
              detail: `unreadable C-FIND identifier: ${error.message}`,
            };
          }
          if (query.limit !== undefined && results.length >= query.limit) {
            cancelled = true;
            control.cancel();
          }
          return undefined;
        }
        case 'success':
          return undefined;
        case 'cancel':
          return cancelled
            ? undefined
            : { kind: 'status', status: response.status, errorComment: response.errorComment };
        case 'warning':
          logger?.warn({
            msg: 'C-FIND completed with a warning status',
            status: formatStatus(response.status),
          });
          return undefined;
        case 'failure':
          return { kind: 'status', status: response.status, errorComment: response.errorComment };
      }
    },
    result: () => results,
  };
}

/**
 * Study Root Query/Retrieve Information Model FIND (PS3.4 C.4.1): one association, one C-FIND,
 * every match as DICOM JSON (PS3.18 F.2) with its text decoded per the answer's own character set.
 */
export async function find(options: DimseConnectionOptions, query: FindQuery): Promise<DicomJson[]> {
  const problem = identifierProblem(query);
  if (problem !== undefined) throw new DimseError(DimseErrorCode.INVALID_REQUEST, problem);
  const elements = buildFindIdentifier(query);
  const { value, elapsedMs } = await runAssociation(
    options,
    findOperation(query, elements, options.logger),
    dcmjsDimseTransport,
  );
  options.logger?.debug({
    msg: 'C-FIND complete',
    level: query.level,
    keys: Object.keys(query.keys),
    matches: value.length,
    elapsedMs,
  });
  return value;
}
