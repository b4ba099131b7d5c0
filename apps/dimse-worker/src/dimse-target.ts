import type { DimseTargetData } from '@pacslink/contracts';
import type { DimseConnectionOptions } from '@pacslink/dimse';
import type { EgressGuard } from '@pacslink/egress';

/**
 * The association to a request's target, every phase bounded by the configuration's timeoutMs,
 * its address checked by the egress guard before anything is opened.
 */
export function connectionOptions(target: DimseTargetData, egress: EgressGuard): DimseConnectionOptions {
  return {
    host: target.host,
    port: target.port,
    callingAeTitle: target.callingAeTitle,
    calledAeTitle: target.calledAeTitle,
    connectTimeoutMs: target.timeoutMs,
    associationTimeoutMs: target.timeoutMs,
    pduTimeoutMs: target.timeoutMs,
    egress,
  };
}

/**
 * `work`, or an Error with `message` once `timeoutMs` passed. Each DIMSE phase has its own bound;
 * this one keeps the whole operation within timeoutMs, so the answer always reaches config-service
 * before its RPC bound (timeoutMs + 5 s). `onTimeout` lets the work stop itself (a C-FIND's
 * C-CANCEL) instead of running on unobserved.
 */
export async function withinDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  message: string,
  onTimeout?: () => void,
): Promise<T> {
  let deadline: NodeJS.Timeout | undefined;
  work.catch(() => undefined);
  const timedOut = new Promise<never>((_, reject) => {
    deadline = setTimeout(() => {
      onTimeout?.();
      reject(new Error(message));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(deadline);
  }
}
