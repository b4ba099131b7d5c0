import { aeTitleProblem, normalizeAeTitle } from '@pacslink/dicom';
import { exchangeOnOwnAssociation } from '../association/request-exchange';
import { DimseError, DimseErrorCode } from '../dimse.errors';
import type { DimseConnectionOptions } from '../dimse.options';
import { SopClassUid, TransferSyntaxUid } from '../protocol/uids';
import { CommandField, encodeCMoveRq, PRIORITY_CODES } from '../store/command-set';
import {
  buildRetrieveIdentifier,
  RETRIEVE_MESSAGE_ID,
  retrieveOptionsProblem,
  runRetrieve,
  type RetrieveOptions,
  type RetrieveQuery,
  type RetrieveResult,
} from './retrieve';

export interface MoveOptions extends RetrieveOptions {
  /** the AE title the PACS sends the instances to; the PACS must know it (host and port) */
  destinationAeTitle: string;
}

const SOP_CLASS = SopClassUid.StudyRootQueryRetrieveInformationModelMove;

/**
 * Study Root Query/Retrieve MOVE (PS3.4 C.4.2): one association, one C-MOVE-RQ; the PACS sends the
 * instances to `destinationAeTitle` on associations of its own and reports sub-operation counts in
 * its pending responses (to `onProgress`) and its final one. A destination the PACS does not know
 * is its failure status (0xA801, STATUS_FAILURE).
 */
export async function move(
  options: DimseConnectionOptions,
  query: RetrieveQuery,
  moveOptions: MoveOptions,
): Promise<RetrieveResult> {
  const problem =
    retrieveOptionsProblem(moveOptions) ??
    (aeTitleProblem(moveOptions.destinationAeTitle) === undefined
      ? undefined
      : `destinationAeTitle ${aeTitleProblem(moveOptions.destinationAeTitle)}`);
  if (problem !== undefined) throw new DimseError(DimseErrorCode.INVALID_REQUEST, problem);
  const identifier = buildRetrieveIdentifier(query);
  if (moveOptions.signal?.aborted === true) {
    throw new DimseError(DimseErrorCode.CANCELLED, 'C-MOVE cancelled before it started; nothing was sent');
  }
  const { value, elapsedMs } = await exchangeOnOwnAssociation(options, {
    command: 'C-MOVE',
    abstractSyntaxUid: SOP_CLASS,
    run: (association, context) =>
      runRetrieve(association, {
        ...moveOptions,
        command: 'C-MOVE',
        contextId: context.id,
        explicitVr: context.transferSyntaxUid !== TransferSyntaxUid.ImplicitVRLittleEndian,
        request: encodeCMoveRq({
          sopClassUid: SOP_CLASS,
          messageId: RETRIEVE_MESSAGE_ID,
          priority: PRIORITY_CODES[moveOptions.priority ?? 'MEDIUM'],
          moveDestination: normalizeAeTitle(moveOptions.destinationAeTitle),
        }),
        identifier,
        responseField: CommandField.CMoveRsp,
        pduTimeoutMs: options.pduTimeoutMs,
        logger: options.logger,
      }),
  });
  options.logger?.debug({
    msg: 'C-MOVE complete',
    level: query.level,
    destinationAeTitle: normalizeAeTitle(moveOptions.destinationAeTitle),
    completed: value.completed,
    failed: value.failed,
    warning: value.warning,
    elapsedMs,
  });
  return { ...value, elapsedMs };
}
