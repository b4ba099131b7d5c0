/**
 * DIMSE status codes (PS3.7 Annex C; service-specific codes from PS3.4 C.4 and the N-services),
 * as a frozen map, and their classes: success, pending, cancel, warning, failure.
 */
export const Status = Object.freeze({
  Success: 0x0000,
  /** PS3.4 C.4.1.1.4: matches are continuing */
  Pending: 0xff00,
  /** PS3.4 C.4.1.1.4: matches are continuing, but one or more optional keys were not supported */
  PendingOptionalKeysNotSupported: 0xff01,
  Cancel: 0xfe00,
  ProcessingFailure: 0x0110,
} as const);

export type StatusClass = 'success' | 'pending' | 'cancel' | 'warning' | 'failure';

const MEANINGS: Readonly<Record<number, string>> = Object.freeze({
  0x0000: 'success',
  0xff00: 'pending: matches are continuing',
  0xff01: 'pending: matches are continuing, optional keys not supported',
  0xfe00: 'cancelled',
  0x0001: 'warning: requested optional attributes are not supported',
  0x0107: 'warning: attribute list error',
  0x0116: 'warning: attribute value out of range',
  0xb000: 'warning: sub-operations complete, one or more failures or warnings',
  0xb006: 'warning: elements discarded',
  0xb007: 'warning: data set does not match SOP class',
  0x0105: 'no such attribute',
  0x0106: 'invalid attribute value',
  0x0110: 'processing failure',
  0x0111: 'duplicate SOP instance',
  0x0112: 'no such SOP instance',
  0x0113: 'no such event type',
  0x0114: 'no such argument',
  0x0115: 'invalid argument value',
  0x0117: 'invalid object instance',
  0x0118: 'no such SOP class',
  0x0119: 'class-instance conflict',
  0x0120: 'missing attribute',
  0x0121: 'missing attribute value',
  0x0122: 'SOP class not supported',
  0x0123: 'no such action',
  0x0124: 'not authorized',
  0x0210: 'duplicate invocation',
  0x0211: 'unrecognized operation',
  0x0212: 'mistyped argument',
  0x0213: 'resource limitation',
  0xa700: 'refused: out of resources',
  0xa701: 'refused: out of resources, unable to calculate number of matches',
  0xa702: 'refused: out of resources, unable to perform sub-operations',
  0xa801: 'refused: move destination unknown',
  0xa900: 'identifier does not match SOP class',
});

export function statusClass(status: number): StatusClass {
  if (status === Status.Success) return 'success';
  if (status === Status.Pending || status === Status.PendingOptionalKeysNotSupported) return 'pending';
  if (status === Status.Cancel) return 'cancel';
  // PS3.7 C.3: 0001, Bxxx, 0107 and 0116 are warnings; everything else is a failure.
  if (status === 0x0001 || status === 0x0107 || status === 0x0116 || (status & 0xf000) === 0xb000) {
    return 'warning';
  }
  return 'failure';
}

export function isPending(status: number): boolean {
  return statusClass(status) === 'pending';
}

/** The meaning of a status in words, falling back to its class for codes without a fixed meaning. */
export function statusMeaning(status: number): string {
  const known = MEANINGS[status];
  if (known !== undefined) return known;
  if ((status & 0xf000) === 0xa000) return 'refused';
  if ((status & 0xf000) === 0xc000) return 'failed: unable to process';
  const cls = statusClass(status);
  return cls === 'failure' ? 'failure' : cls;
}

export function hex4(value: number): string {
  return `0x${value.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** "0x0110 (processing failure)" */
export function formatStatus(status: number): string {
  return `${hex4(status)} (${statusMeaning(status)})`;
}

/**
 * A C-STORE-RSP status in words (PS3.4 B.2.3, Table B.2-1): the storage meanings of the ranges
 * that other services read differently (A9xx, Cxxx, B000).
 */
export function storeStatusMeaning(status: number): string {
  if ((status & 0xff00) === 0xa700) return 'refused: out of resources';
  if ((status & 0xff00) === 0xa900) return 'error: data set does not match SOP class';
  if ((status & 0xf000) === 0xc000) return 'error: cannot understand';
  if (status === 0xb000) return 'warning: coercion of data elements';
  return statusMeaning(status);
}
