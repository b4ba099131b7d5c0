import type { LookupAddress } from 'node:dns';
import { isEgressRefusedError } from '@pacslink/egress';
import type { DimseFailure } from '../dimse.errors';
import type { DimseConnectionOptions } from '../dimse.options';

/** The peer's addresses the egress policy allows, and what is left of the connect timeout. */
export interface ResolvedPeer {
  addresses: LookupAddress[];
  remainingMs: number;
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/**
 * Resolves the peer's host and checks it against the egress policy before any socket exists,
 * within the connect timeout (DNS is part of connecting). A refusal, a name that does not resolve,
 * or no answer in time is the failure of the connect phase.
 */
export async function resolvePeer(
  options: DimseConnectionOptions,
): Promise<ResolvedPeer | { failure: DimseFailure }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.connectTimeoutMs);
  });
  try {
    const answer = await Promise.race([options.egress.resolve(options.host, options.port), timedOut]);
    if (answer === 'timeout') {
      return { failure: { kind: 'timeout', phase: 'connect', timeoutMs: options.connectTimeoutMs } };
    }
    const remainingMs = Math.max(1, options.connectTimeoutMs - Math.round(performance.now() - started));
    return { addresses: answer, remainingMs };
  } catch (error) {
    if (isEgressRefusedError(error)) return { failure: { kind: 'egress-refused', detail: error.message } };
    const message = error instanceof Error ? error.message : String(error);
    return { failure: { kind: 'socket-error', phase: 'connect', errorCode: codeOf(error), message } };
  } finally {
    clearTimeout(timer);
  }
}
