import type { CircuitOptions } from './circuit-transitions';

/** Timing of transfers; from the environment (config.ts), short in tests. */
export interface TransferOptions {
  /** First automatic retry after a transient failure waits about this long, doubling each time. */
  retryBaseMs: number;
  /** Automatic attempts of one batch before its transfer fails. */
  maxAttempts: number;
  /** A claimed batch with no report from its worker for this long is taken back and retried. */
  leaseMs: number;
  /** A dispatched batch no worker claimed for this long is dispatched again. */
  dispatchLeaseMs: number;
  /** How often pending batches, delayed retries and expired leases are looked at. */
  sweepIntervalMs: number;
  /** The circuit of each PACS (circuit-transitions.ts). */
  circuit: CircuitOptions;
}

export const TRANSFER_OPTIONS = Symbol('TRANSFER_OPTIONS');

/** Exponential backoff with jitter (between half and all of the ceiling), at most 5 minutes. */
export function retryDelayMs(options: TransferOptions, attempt: number): number {
  const ceiling = Math.min(300_000, options.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}
