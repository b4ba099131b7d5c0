/**
 * SQLSTATE classes and codes that say "the database cannot answer now", not "this statement is
 * wrong": connection exceptions (08), insufficient resources (53), operator intervention such as a
 * shutdown or a server still starting (57P), and the two a retry of the transaction resolves
 * (serialization failure 40001, deadlock 40P01).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P|40001$|40P01$)/;
/** Socket errors of a connection that was refused, reset or never answered. */
const UNAVAILABLE_SOCKET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** node-postgres says these in words only (no code). */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable/i;

interface MaybeDriverError {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * Whether `error` (as node-postgres or TypeORM raise it) means the database is unreachable,
 * restarting or overloaded: worth waiting for, unlike a bug or a constraint violation.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { code, message, driverError, cause, errors } = error as MaybeDriverError;
  if (typeof code === 'string' && (UNAVAILABLE_SOCKET.has(code) || UNAVAILABLE_SQLSTATE.test(code)))
    return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  const inner = [driverError, cause, ...(Array.isArray(errors) ? (errors as unknown[]) : [])];
  return inner.some((next) => isDatabaseUnavailable(next, depth + 1));
}

export interface WaitForDatabaseOptions {
  /** Give up (rethrow the last error) once waiting longer would pass this bound. */
  boundMs: number;
  /** First wait; each next one doubles, at most `maxDelayMs`, with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Aborted (shutdown): stop waiting and rethrow. */
  signal?: AbortSignal;
  /** Called before each wait (for a log line). */
  onWait?: (error: unknown, retries: number, delayMs: number) => void;
}

/**
 * Runs `work`; while it fails because the database is unavailable, waits with exponential backoff
 * and runs it again, up to `boundMs`. Any other error, an abort, or the bound rethrows.
 */
export async function waitForDatabase<T>(
  work: () => Promise<T>,
  options: WaitForDatabaseOptions,
): Promise<T> {
  const { boundMs, baseDelayMs = 250, maxDelayMs = 5_000, signal, onWait } = options;
  const deadline = Date.now() + boundMs;
  for (let retries = 0; ; retries++) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || signal?.aborted) throw error;
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(retries, 16));
      const delayMs = Math.round(ceiling * (0.5 + Math.random() / 2));
      if (Date.now() + delayMs > deadline) throw error;
      onWait?.(error, retries + 1, delayMs);
      const waited = await sleep(delayMs, signal);
      if (!waited) throw error;
    }
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (slept: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      resolve(slept);
    };
    const aborted = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
