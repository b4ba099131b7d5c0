/**
 * A circuit per PACS configuration, as pure decisions (docs/decisions/0006-transfers.md, "A circuit
 * per PACS"). Closed: batches go out as usual, and attempts that found the PACS unreachable are
 * counted. Open: nothing goes out (waiting costs no attempt) until the cool-down has run out; then
 * one batch goes as the probe (half-open): it answering closes the circuit, it finding the PACS
 * unreachable opens it again for twice the cool-down. Transfers that waited for an open circuit
 * longer than the wait bound fail with the circuit's reason. PacsCircuitBreaker loads the circuit
 * (locked, its times judged by the database's clock), asks here, and writes the answer.
 */

export const CircuitStates = ['closed', 'open', 'half-open'] as const;
export type CircuitState = (typeof CircuitStates)[number];

/** A circuit as the decisions see it. A PACS without a row has the CLOSED circuit. */
export interface CircuitSnapshot {
  state: CircuitState;
  /** Attempts in a row that found the PACS unreachable (reset by any answer). */
  failures: number;
  /** When the circuit opened for this outage: kept while probes fail, cleared when it closes. */
  openedAt: Date | null;
  /** Probes that failed since it opened: each doubles the cool-down. */
  reopenings: number;
  /** Half-open: the batch sent as the probe. */
  probeBatchId: string | null;
  /** The last failure that found the PACS unreachable. */
  lastError: string | null;
  /** Open: the cool-down has run out (by the database's clock). */
  probeDue: boolean;
  /** Half-open: the probe batch is still dispatched or running. */
  probeOut: boolean;
  /** How long the circuit has been open, by the database's clock (0 when closed). */
  openForMs: number;
}

export const CLOSED_CIRCUIT: CircuitSnapshot = {
  state: 'closed',
  failures: 0,
  openedAt: null,
  reopenings: 0,
  probeBatchId: null,
  lastError: null,
  probeDue: false,
  probeOut: false,
  openForMs: 0,
};

export interface CircuitOptions {
  /** Attempts in a row that found the PACS unreachable before its circuit opens. */
  failuresToOpen: number;
  /** The first cool-down before a probe; it doubles with each failed probe, up to waitMs. */
  coolDownMs: number;
  /** Transfers wait at most this long for an open circuit, then fail with its reason. */
  waitMs: number;
}

/**
 * What an attempt (a finished run of a batch) showed about the PACS: unreachable (the worker's
 * classified failure said so), answered (outcomes, or a failure the PACS itself gave), or nothing
 * (the worker failed on its own side, or said nothing about the PACS).
 */
export type AttemptVerdict = 'unreachable' | 'answered' | 'unknown';

/**
 * The verdict of a finished run: any outcome means the PACS answered; otherwise its failure's
 * `unreachable` (from the worker's protocol library) decides, and a failure without one (the
 * worker's own: a shutdown, a file missing) says nothing.
 */
export function attemptVerdict(report: {
  outcomes: readonly unknown[];
  failure?: { unreachable?: boolean };
}): AttemptVerdict {
  if (report.outcomes.length > 0 || report.failure === undefined) return 'answered';
  if (report.failure.unreachable === undefined) return 'unknown';
  return report.failure.unreachable ? 'unreachable' : 'answered';
}

export type CircuitChange =
  | { kind: 'none' }
  /** Closed, one more unreachable attempt in a row. */
  | { kind: 'count'; failures: number; lastError: string }
  /** Opens (from closed), or opens again (the probe failed): nothing goes out for coolDownMs. */
  | {
      kind: 'open';
      reopened: boolean;
      failures: number;
      reopenings: number;
      coolDownMs: number;
      lastError: string;
    }
  /** The PACS answered while the circuit was open or half-open. */
  | { kind: 'close' }
  /** Closed, and the unreachable attempts in a row start again from 0. */
  | { kind: 'reset' };

/** The cool-down after `reopenings` failed probes: doubling, at most the wait bound. */
export function coolDownMs(options: CircuitOptions, reopenings: number): number {
  return Math.min(Math.max(options.coolDownMs, options.waitMs), options.coolDownMs * 2 ** reopenings);
}

/** What an attempt of batch `batchId` does to its PACS's circuit. */
export function decideAttempt(
  circuit: CircuitSnapshot,
  attempt: { batchId: string; verdict: AttemptVerdict; reason: string },
  options: CircuitOptions,
): CircuitChange {
  switch (attempt.verdict) {
    case 'unknown':
      return { kind: 'none' };
    case 'answered':
      if (circuit.state !== 'closed') return { kind: 'close' };
      return circuit.failures > 0 ? { kind: 'reset' } : { kind: 'none' };
    case 'unreachable': {
      if (circuit.state === 'closed') {
        const failures = circuit.failures + 1;
        if (failures < options.failuresToOpen) return { kind: 'count', failures, lastError: attempt.reason };
        return {
          kind: 'open',
          reopened: false,
          failures,
          reopenings: 0,
          coolDownMs: coolDownMs(options, 0),
          lastError: attempt.reason,
        };
      }
      // Open: a batch sent before it opened, telling what the circuit already knows.
      if (circuit.state === 'open' || attempt.batchId !== circuit.probeBatchId) return { kind: 'none' };
      const reopenings = circuit.reopenings + 1;
      return {
        kind: 'open',
        reopened: true,
        failures: circuit.failures + 1,
        reopenings,
        coolDownMs: coolDownMs(options, reopenings),
        lastError: attempt.reason,
      };
    }
  }
}

export type DispatchGate =
  /** Closed: every free slot. */
  | { kind: 'all' }
  /** Send one batch as the probe (the circuit goes half-open). */
  | { kind: 'probe' }
  /** Open within its cool-down, or its probe is still out: send nothing. */
  | { kind: 'hold' };

/** How many of a PACS's batches may go out now. */
export function decideDispatch(circuit: CircuitSnapshot): DispatchGate {
  switch (circuit.state) {
    case 'closed':
      return { kind: 'all' };
    case 'open':
      return circuit.probeDue ? { kind: 'probe' } : { kind: 'hold' };
    case 'half-open':
      // A probe that ended without a verdict (cancelled, its worker gone) is replaced at once.
      return circuit.probeOut ? { kind: 'hold' } : { kind: 'probe' };
  }
}

/**
 * Whether the transfers waiting for this circuit fail now: it has been open for the wait bound, and
 * the latest word on the PACS says it is unreachable — the circuit is cooling down after opening or
 * after a failed probe, not waiting for a probe's answer or for its next probe to go.
 */
export function waitedTooLong(circuit: CircuitSnapshot, options: CircuitOptions): boolean {
  return circuit.state === 'open' && !circuit.probeDue && circuit.openForMs >= options.waitMs;
}

/** The reason a transfer that waited too long for an open circuit fails with. */
export function circuitOpenReason(
  pacs: { aeTitle: string; name: string },
  circuit: Pick<CircuitSnapshot, 'openedAt' | 'failures' | 'lastError'>,
  options: Pick<CircuitOptions, 'failuresToOpen'>,
): string {
  const since = circuit.openedAt?.toISOString() ?? 'an unknown time';
  return (
    `PACS ${pacs.aeTitle} ("${pacs.name}") is unreachable: its circuit opened at ${since} after ` +
    `${options.failuresToOpen} failed attempts in a row, and no probe since got an answer; the last ` +
    `failure: ${circuit.lastError ?? 'not recorded'}`
  );
}
