export interface EitherSignal {
  /** Aborts, with its reason, as soon as either of the two does. */
  signal: AbortSignal;
  /** Detaches from both: call when the work it guarded is over. */
  dispose(): void;
}

/**
 * AbortSignal.any for two signals, detachable. The consumer's signal lives as long as the worker,
 * and Node 20's AbortSignal.any leaves about 50 bytes on it per call (measured: 5.6 MB per 100,000
 * batches); this leaves nothing once disposed.
 */
export function eitherSignal(first: AbortSignal, second: AbortSignal): EitherSignal {
  const controller = new AbortController();
  const sources = [first, second];
  const dispose = () => sources.forEach((source) => source.removeEventListener('abort', onAbort));
  function onAbort(this: AbortSignal): void {
    dispose();
    controller.abort(this.reason);
  }
  const aborted = sources.find((source) => source.aborted);
  if (aborted) controller.abort(aborted.reason);
  else sources.forEach((source) => source.addEventListener('abort', onAbort));
  return { signal: controller.signal, dispose };
}
