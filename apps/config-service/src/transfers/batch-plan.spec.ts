import { planBatches } from './batch-plan';

const batchSizes = (plan: number[]): number[] =>
  plan.reduce<number[]>((sizes, batch) => {
    sizes[batch] = (sizes[batch] ?? 0) + 1;
    return sizes;
  }, []);

describe('planBatches', () => {
  const limits = { maxInstances: 500, maxBytes: 1000 };

  it('keeps a small study in one batch when one association sends it', () => {
    expect(batchSizes(planBatches(Array(200).fill(1), 1, limits))).toEqual([200]);
  });

  it('gives each parallel association its share', () => {
    expect(batchSizes(planBatches(Array(200).fill(1), 4, limits))).toEqual([50, 50, 50, 50]);
    expect(batchSizes(planBatches(Array(10).fill(1), 4, limits))).toEqual([3, 3, 3, 1]);
  });

  it('never puts more than maxInstances in a batch', () => {
    expect(batchSizes(planBatches(Array(2000).fill(0), 1, limits))).toEqual([500, 500, 500, 500]);
  });

  it('cuts by bytes, and sends an instance bigger than the bound alone', () => {
    expect(planBatches([400, 400, 400, 5000, 10], 1, limits)).toEqual([0, 0, 1, 2, 3]);
  });

  it('plans nothing for nothing', () => {
    expect(planBatches([], 3, limits)).toEqual([]);
  });
});
