/**
 * `run(signal)`, or an Error with `message` once `timeoutMs` passed, the signal aborted then so the
 * work stops itself (a C-FIND's C-CANCEL and release). Past its C-CANCEL a C-FIND may wait a whole
 * PDU timeout more for the PACS's final answer; this bound keeps the answer within timeoutMs, so it
 * reaches config-service before its RPC bound (timeoutMs + 5 s) turns it into "unavailable".
 */
export async function withinDeadline<T>(
  timeoutMs: number,
  message: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop.abort();
      reject(new Error(message));
    }, timeoutMs);
  });
  const work = run(stop.signal);
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
