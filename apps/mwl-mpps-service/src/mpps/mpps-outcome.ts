import {
  DimseError,
  DimseErrorCode,
  formatStatus,
  statusMeaning,
  type NormalizedResult,
} from '@pacslink/dimse';

/** 0x0111 Duplicate SOP Instance (PS3.7 C.4.2.1.4): our own UID, so an earlier attempt of ours reached the SCP. */
export const DUPLICATE_SOP_INSTANCE = 0x0111;
/**
 * 0x0110 to an N-SET of an MPPS: "Performed Procedure Step Object may no longer be updated"
 * (PS3.4 F.7.2.2.4): the SCP holds the instance COMPLETED or DISCONTINUED already.
 */
export const NO_LONGER_UPDATABLE = 0x0110;

/**
 * What an N-CREATE or N-SET came to, as the task keeps it: the SCP's status and its meaning, and a
 * note for a warning (a success with a note) or a failure. The Error Comment is the SCP's own words
 * (it may name the patient): kept on the task, never logged.
 */
export interface MppsOutcome {
  accepted: boolean;
  statusCode: number | null;
  meaning: string;
  note: string | null;
  /** no answer at all (connection refused, timeout, association refused): worth a retry */
  unreachable: boolean;
}

function comment(errorComment: string | undefined): string {
  return errorComment === undefined || errorComment === '' ? '' : `: ${errorComment}`;
}

export function acceptedOutcome(result: NormalizedResult): MppsOutcome {
  return {
    accepted: true,
    statusCode: result.statusCode,
    meaning: result.meaning,
    note:
      result.status === 'warning'
        ? `warning ${formatStatus(result.statusCode)}${comment(result.errorComment)}${
            result.attributes === undefined ? '' : ` (attributes ${result.attributes.join(', ')})`
          }`
        : null,
    unreachable: false,
  };
}

/** Codes of a DimseError for which the SCP never gave an answer to our request. */
const UNANSWERED: readonly DimseErrorCode[] = [
  DimseErrorCode.CONNECTION_REFUSED,
  DimseErrorCode.HOST_NOT_FOUND,
  DimseErrorCode.HOST_UNREACHABLE,
  DimseErrorCode.TIMEOUT,
  DimseErrorCode.CONNECTION_LOST,
  DimseErrorCode.ASSOCIATION_REJECTED,
  DimseErrorCode.ASSOCIATION_ABORTED,
  DimseErrorCode.NO_RESPONSE,
];

export function failedOutcome(error: unknown): MppsOutcome {
  if (!(error instanceof DimseError)) throw error;
  const status = error.details.status;
  if (error.code === DimseErrorCode.STATUS_FAILURE && status !== undefined) {
    const attributes = error.details.attributes;
    return {
      accepted: false,
      statusCode: status,
      meaning: statusMeaning(status),
      note: `refused ${formatStatus(status)}${comment(error.details.errorComment)}${
        attributes === undefined ? '' : ` (attributes ${attributes.join(', ')})`
      }`,
      unreachable: false,
    };
  }
  return {
    accepted: false,
    statusCode: null,
    meaning: error.code,
    note: error.message,
    unreachable: UNANSWERED.includes(error.code),
  };
}
