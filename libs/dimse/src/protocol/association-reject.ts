/**
 * Plain-words decoding of the DICOM Upper Layer's refusals: A-ASSOCIATE-RJ (PS3.8 9.3.4, Table 9-21),
 * A-ABORT (PS3.8 9.3.8, Table 9-26) and the per-presentation-context result of A-ASSOCIATE-AC
 * (PS3.8 9.3.3.2, Table 9-18).
 */

export interface AssociateReject {
  /** 1 rejected-permanent, 2 rejected-transient */
  result: number;
  /** 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation) */
  source: number;
  /** meaning depends on `source` */
  reason: number;
}

export interface AbortInfo {
  /** 0 service-user, 2 service-provider (1 is reserved) */
  source: number;
  /** meaningful only when the service provider aborted */
  reason: number;
}

export function describeRejectResult(result: number): string {
  switch (result) {
    case 1:
      return 'permanently';
    case 2:
      return 'transiently';
    default:
      return `with an unknown result (${result})`;
  }
}

export function describeRejectSource(source: number): string {
  switch (source) {
    case 1:
      return 'the called AE (service user)';
    case 2:
      return "the peer's DICOM upper layer (service provider, ACSE)";
    case 3:
      return "the peer's DICOM upper layer (service provider, presentation)";
    default:
      return `an unknown source (${source})`;
  }
}

/** Table 9-21: the reason codes are numbered per source. */
export function describeRejectReason(source: number, reason: number): string {
  if (source === 1) {
    switch (reason) {
      case 1:
        return 'no reason given';
      case 2:
        return 'application context name not supported';
      case 3:
        return 'calling AE title not recognized';
      case 7:
        return 'called AE title not recognized';
    }
  } else if (source === 2) {
    switch (reason) {
      case 1:
        return 'no reason given';
      case 2:
        return 'protocol version not supported';
    }
  } else if (source === 3) {
    switch (reason) {
      case 1:
        return 'temporary congestion';
      case 2:
        return 'local limit exceeded';
    }
  }
  return `reserved reason code ${reason}`;
}

/** What a person can do about a rejection, when the reason says. */
export function rejectHint(
  reject: AssociateReject,
  titles: { callingAeTitle: string; calledAeTitle: string },
): string | undefined {
  const reason = describeRejectReason(reject.source, reject.reason);
  switch (reason) {
    case 'calling AE title not recognized':
      return `register calling AE title ${titles.callingAeTitle} (and this host) in the PACS`;
    case 'called AE title not recognized':
      return `the PACS does not answer to AE title ${titles.calledAeTitle}; check its AE title`;
    case 'temporary congestion':
    case 'local limit exceeded':
      return 'the PACS is busy; try again later or lower the number of parallel associations';
    case 'application context name not supported':
    case 'protocol version not supported':
      return 'the peer does not speak this DICOM dialect; is it a DICOM port?';
    default:
      return undefined;
  }
}

/** "association rejected permanently by the called AE (service user): called AE title not recognized" */
export function describeAssociateReject(reject: AssociateReject): string {
  return (
    `association rejected ${describeRejectResult(reject.result)} by ${describeRejectSource(reject.source)}: ` +
    describeRejectReason(reject.source, reject.reason)
  );
}

export function describeAbortSource(source: number): string {
  switch (source) {
    case 0:
      return 'service user';
    case 2:
      return 'service provider';
    default:
      return `reserved source ${source}`;
  }
}

/** Table 9-26: the reason is only significant when the service provider aborted. */
export function describeAbortReason(reason: number): string {
  switch (reason) {
    case 0:
      return 'reason not specified';
    case 1:
      return 'unrecognized PDU';
    case 2:
      return 'unexpected PDU';
    case 4:
      return 'unrecognized PDU parameter';
    case 5:
      return 'unexpected PDU parameter';
    case 6:
      return 'invalid PDU parameter value';
    default:
      return `reserved reason code ${reason}`;
  }
}

/** "association aborted by the peer (service provider: unexpected PDU)" */
export function describeAbort(abort: AbortInfo): string {
  const who =
    abort.source === 2
      ? `${describeAbortSource(abort.source)}: ${describeAbortReason(abort.reason)}`
      : describeAbortSource(abort.source);
  return `association aborted by the peer (${who})`;
}

/** Table 9-18: result of one presentation context in the A-ASSOCIATE-AC. */
export function describePresentationContextResult(result: number | undefined): string {
  switch (result) {
    case undefined:
      return 'not answered in the association accept';
    case 0:
      return 'accepted';
    case 1:
      return 'user rejection';
    case 2:
      return 'no reason';
    case 3:
      return 'abstract syntax not supported';
    case 4:
      return 'transfer syntaxes not supported';
    default:
      return `unknown result ${result}`;
  }
}
