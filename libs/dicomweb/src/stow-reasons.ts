/**
 * PS3.18 10.5.3 (Store Instances Response Module): FailureReason (0008,1197) and WarningReason
 * (0008,1196) carry the C-STORE status codes of PS3.4 Annex B.2.3 and PS3.7 Annex C. Exact codes
 * first, then the ranges PS3.4 defines (A7xx, A9xx, Cxxx).
 */
const EXACT: ReadonlyMap<number, string> = new Map([
  [0x0110, 'processing failure'],
  [0x0111, 'duplicate SOP instance'],
  [0x0117, 'invalid SOP instance'],
  [0x0118, 'no such SOP class'],
  [0x0119, 'class-instance conflict'],
  [0x0122, 'SOP class not supported'],
  [0x0124, 'not authorized'],
  [0x0210, 'duplicate invocation'],
  [0x0211, 'unrecognized operation'],
  [0x0212, 'mistyped argument'],
  [0x0213, 'resource limitation'],
  [0xa700, 'out of resources'],
  [0xa900, 'data set does not match SOP class'],
  [0xb000, 'coercion of data elements'],
  [0xb006, 'elements discarded'],
  [0xb007, 'data set does not match SOP class'],
  [0xc000, 'cannot understand'],
  [0xc122, 'transfer syntax not supported'],
]);

function inWords(code: number): string {
  const exact = EXACT.get(code);
  if (exact !== undefined) return exact;
  switch (code & 0xff00) {
    case 0xa700:
      return 'out of resources';
    case 0xa900:
      return 'data set does not match SOP class';
    default:
      return (code & 0xf000) === 0xc000 ? 'cannot understand' : 'unknown status code';
  }
}

/** `0xA700 out of resources`: the code as PS3.4 prints it, then its meaning. */
export function describeStowReason(code: number): string {
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  return `0x${hex} ${inWords(code)}`;
}
