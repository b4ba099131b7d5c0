/** How a STOW-RS export is cut into requests: in order, by instance count and by bytes. */
export interface BatchLimits {
  maxInstances: number;
  maxBytes: number;
}

/**
 * Cuts `items` into consecutive batches of at most `maxInstances` items and at most `maxBytes`
 * bytes; an item bigger than `maxBytes` goes alone. Order is kept, so outcomes follow the input.
 */
export function planBatches<T extends { sizeBytes: number }>(
  items: readonly T[],
  limits: BatchLimits,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const full = current.length >= limits.maxInstances || bytes + item.sizeBytes > limits.maxBytes;
    if (current.length > 0 && full) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.sizeBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
