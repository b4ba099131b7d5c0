import { aeTitleProblem, normalizeAeTitle } from '@pacslink/dicom';
import type { EgressGuard } from '@pacslink/egress';

/**
 * Structured logging (pino-compatible). The library logs protocol facts only: AE titles, hosts,
 * statuses, counts, keywords. Never values of the identifier (patient names, IDs).
 */
export interface DimseLogger {
  debug(obj: Record<string, unknown>): void;
  warn(obj: Record<string, unknown>): void;
}

/** Where and as whom to open one association; every bound is explicit (dcmjs-dimse's default connect timeout is 180 s). */
export interface DimseConnectionOptions {
  host: string;
  port: number;
  /** our AE title (1–16 characters; leading/trailing spaces are not significant) */
  callingAeTitle: string;
  /** the peer's AE title */
  calledAeTitle: string;
  /** DNS lookup + TCP connect */
  connectTimeoutMs: number;
  /** from TCP connected to A-ASSOCIATE-AC/RJ */
  associationTimeoutMs: number;
  /** the longest silence accepted while waiting for a response, and for the A-RELEASE-RP */
  pduTimeoutMs: number;
  /** checks `host` on the addresses it resolves to before any socket is opened (@pacslink/egress) */
  egress: EgressGuard;
  logger?: DimseLogger;
}

const MAX_TIMEOUT_MS = 3_600_000;

/** Why the options are unusable, or undefined. */
export function connectionOptionsProblem(options: DimseConnectionOptions): string | undefined {
  if (typeof options.host !== 'string' || options.host.trim() === '')
    return 'host must be a non-empty string';
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    return `port must be an integer 1..65535 (got ${String(options.port)})`;
  }
  for (const field of ['callingAeTitle', 'calledAeTitle'] as const) {
    const problem = aeTitleProblem(options[field]);
    if (problem !== undefined) return `${field} ${problem}`;
  }
  for (const field of ['connectTimeoutMs', 'associationTimeoutMs', 'pduTimeoutMs'] as const) {
    const value = options[field];
    if (!Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS) {
      return `${field} must be an integer 1..${MAX_TIMEOUT_MS} (got ${String(value)})`;
    }
  }
  return undefined;
}

/** The options as sent: host and AE titles trimmed. */
export function normalizeConnectionOptions(options: DimseConnectionOptions): DimseConnectionOptions {
  return {
    ...options,
    host: options.host.trim(),
    callingAeTitle: normalizeAeTitle(options.callingAeTitle),
    calledAeTitle: normalizeAeTitle(options.calledAeTitle),
  };
}
