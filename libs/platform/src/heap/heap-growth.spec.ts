import { HEAP_GROWING_PERCENT, heapGrowthFlag } from './heap-growth';

describe('heapGrowthFlag', () => {
  it('sets the growth when the command line does not', () => {
    expect(heapGrowthFlag([])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowthFlag(['--max-old-space-size=256', '--enable-source-maps'])).toBe(
      '--heap-growing-percent=100',
    );
  });

  it("leaves the operator's own choice alone, in either spelling", () => {
    expect(heapGrowthFlag(['--heap-growing-percent=30'])).toBeUndefined();
    expect(heapGrowthFlag(['--heap-growing-percent', '30'])).toBeUndefined();
  });

  it('does not mistake a longer flag for it', () => {
    expect(heapGrowthFlag(['--heap-growing-percentage=5'])).toBe('--heap-growing-percent=100');
  });
});
