/** Bounds of one batch: a worker holds one unacknowledged delivery for as long as a batch takes. */
export const BATCH_LIMITS = { maxInstances: 500, maxBytes: 256 * 1024 * 1024 } as const;

export interface BatchLimits {
  maxInstances: number;
  maxBytes: number;
}

/**
 * Cuts instances (in sending order) into batches: about one batch per parallel association, so a
 * transfer uses all it may, but never more than `maxInstances` or `maxBytes` per batch (one
 * instance bigger than `maxBytes` goes alone). Returns the batch index of each instance.
 */
export function planBatches(
  sizes: readonly number[],
  parallelism: number,
  limits: BatchLimits = BATCH_LIMITS,
): number[] {
  const perBatch = Math.max(
    1,
    Math.min(limits.maxInstances, Math.ceil(sizes.length / Math.max(1, parallelism))),
  );
  const plan: number[] = [];
  let batch = 0;
  let count = 0;
  let bytes = 0;
  for (const size of sizes) {
    if (count > 0 && (count >= perBatch || bytes + size > limits.maxBytes)) {
      batch += 1;
      count = 0;
      bytes = 0;
    }
    plan.push(batch);
    count += 1;
    bytes += size;
  }
  return plan;
}
