import { setFlagsFromString } from 'node:v8';

/**
 * How much V8's old generation may grow past what the last full collection left before the next
 * full collection starts, in percent of it.
 *
 * Why we set it: V8 derives the growth from the heap cap, and under a cap below 2 GB (the
 * manifests give 192-384 MB, so that a pod stays inside its memory limit) it lets the old
 * generation grow by only 10-30 %. A service streaming DICOM keeps a 30 MB heap and moves
 * megabytes of Buffers through it every second; some of them live long enough to be promoted, and
 * their backing stores count against that small margin, so a full mark-compact ran every 100 ms
 * while receiving (11 per 105 MB study, each ~10 ms on the main thread and ~50 ms of concurrent
 * marking on the second core). With 100 % there is one or none per study, and the cap still bounds
 * the heap: V8 collects before it would pass it. Measured in docs/performance/dimse-engine-benchmark.md.
 */
export const HEAP_GROWING_PERCENT = 100;

const FLAG = '--heap-growing-percent';

/**
 * The V8 flag to set at start-up, or undefined when the operator chose one on the command line
 * (`node --heap-growing-percent=N main.js`; NODE_OPTIONS does not accept it).
 */
export function heapGrowthFlag(execArgv: readonly string[]): string | undefined {
  const chosen = execArgv.some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`));
  return chosen ? undefined : `${FLAG}=${HEAP_GROWING_PERCENT}`;
}

/** Sets the growth before the service allocates its working heap; V8 reads it at every collection. */
export function applyHeapGrowth(execArgv: readonly string[] = process.execArgv): void {
  const flag = heapGrowthFlag(execArgv);
  if (flag !== undefined) setFlagsFromString(flag);
}
