import { formatStatus, isPending, statusClass, statusMeaning, storeStatusMeaning } from './status';

describe('DIMSE status codes (PS3.7 Annex C, PS3.4 C.4)', () => {
  it.each([
    [0x0000, 'success'],
    [0xff00, 'pending'],
    [0xff01, 'pending'],
    [0xfe00, 'cancel'],
    [0x0001, 'warning'],
    [0x0107, 'warning'],
    [0x0116, 'warning'],
    [0xb000, 'warning'],
    [0xb007, 'warning'],
    [0x0110, 'failure'],
    [0x0122, 'failure'],
    [0x0124, 'failure'],
    [0x0211, 'failure'],
    [0xa700, 'failure'],
    [0xa801, 'failure'],
    [0xa900, 'failure'],
    [0xc000, 'failure'],
    [0xc123, 'failure'],
  ])('0x%s is %s', (status, cls) => {
    expect(statusClass(status)).toBe(cls);
  });

  it('treats 0xFF01 as pending, like 0xFF00 (dcmjs-dimse 0.3.3 treats it as final: trap 3)', () => {
    expect(isPending(0xff00)).toBe(true);
    expect(isPending(0xff01)).toBe(true);
    expect(isPending(0x0000)).toBe(false);
    expect(isPending(0xfe00)).toBe(false);
  });

  it.each([
    [0x0000, '0x0000 (success)'],
    [0x0110, '0x0110 (processing failure)'],
    [0x0122, '0x0122 (SOP class not supported)'],
    [0xff01, '0xFF01 (pending: matches are continuing, optional keys not supported)'],
    [0xfe00, '0xFE00 (cancelled)'],
    [0xa700, '0xA700 (refused: out of resources)'],
    [0xa900, '0xA900 (identifier does not match SOP class)'],
    [0xa7ff, '0xA7FF (refused)'],
    [0xc001, '0xC001 (failed: unable to process)'],
    [0xb123, '0xB123 (warning)'],
    [0x0999, '0x0999 (failure)'],
  ])('formats %i as %s', (status, text) => {
    expect(formatStatus(status)).toBe(text);
  });

  it('has a meaning for every status class', () => {
    expect(statusMeaning(0x0001)).toBe('warning: requested optional attributes are not supported');
  });
});

describe('C-STORE statuses (PS3.4 B.2.3)', () => {
  it.each([
    [0xa700, 'refused: out of resources'],
    [0xa7ff, 'refused: out of resources'],
    [0xa900, 'error: data set does not match SOP class'],
    [0xc123, 'error: cannot understand'],
    [0xb000, 'warning: coercion of data elements'],
    [0xb007, 'warning: data set does not match SOP class'],
    [0x0122, 'SOP class not supported'],
  ])('0x%s means %s', (status, meaning) => {
    expect(storeStatusMeaning(status)).toBe(meaning);
  });
});
