import { planBatches } from './stow-batches';

const sized = (...sizes: number[]) => sizes.map((sizeBytes, index) => ({ index, sizeBytes }));
const indexes = (batches: Array<Array<{ index: number }>>) =>
  batches.map((batch) => batch.map((item) => item.index));

describe('planBatches', () => {
  it('cuts 25 instances into 10 + 10 + 5 by count', () => {
    const batches = planBatches(sized(...Array.from({ length: 25 }, () => 1)), {
      maxInstances: 10,
      maxBytes: 1e9,
    });
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    expect(batches.flat().map((item) => item.index)).toEqual(Array.from({ length: 25 }, (_, index) => index));
  });

  it('cuts by bytes, and sends an instance bigger than the limit alone', () => {
    expect(
      indexes(planBatches(sized(40, 40, 40, 150, 10, 10), { maxInstances: 100, maxBytes: 100 })),
    ).toEqual([[0, 1], [2], [3], [4, 5]]);
  });

  it('fills a batch up to exactly the byte limit', () => {
    expect(indexes(planBatches(sized(50, 50, 1), { maxInstances: 100, maxBytes: 100 }))).toEqual([
      [0, 1],
      [2],
    ]);
  });

  it('plans nothing for no instances', () => {
    expect(planBatches([], { maxInstances: 1, maxBytes: 1 })).toEqual([]);
  });
});
