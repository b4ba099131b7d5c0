import type { TransferStatus } from '@pacslink/contracts';
import type { TransferBatchState } from './transfer-batch.entity';
import { isActive } from './transfer-transitions';

/**
 * What a batch's claims, reports, dead letters and leases do to it, as pure decisions
 * (docs/decisions/0006-transfers.md, amendment of issue 10). TransferReportsService and
 * TransferLedger load the batch (locked, its lease judged by the database's clock), ask here, and
 * write the answer.
 */

/** A batch row as the decisions see it. */
export interface BatchSnapshot {
  seq: number;
  state: TransferBatchState;
  attempt: number;
  claimant: string | null;
  failures: number;
  /** lease_until > now(), by the database's clock (false when there is no lease). */
  leaseLive: boolean;
  /** How long the lease still runs, by the database's clock (0 when it ran out). */
  leaseRemainingMs: number;
  /** A C-MOVE batch whose run ended, waiting for the Storage SCP's arrivals (import-transitions.ts). */
  awaitingArrivals: boolean;
}

/** Which run of which attempt a claim or report comes from. */
export interface RunRef {
  attempt: number;
  claimant: string;
}

/** A run told to wait asks again after at most this long: the holder may finish any moment. */
const MAX_CLAIM_WAIT_MS = 5_000;
const MIN_CLAIM_WAIT_MS = 500;

const isOpen = (state: TransferBatchState) => state === 'dispatched' || state === 'running';

export type ClaimDecision =
  /** Drop the command: stale, closed or unknown. */
  | { kind: 'refuse'; reason: string }
  /** Another run holds the attempt with a live lease: hold the delivery and ask again. */
  | { kind: 'wait'; reason: string; retryAfterMs: number }
  /**
   * Dispatched ahead while every slot of the PACS runs: the claim is held, unanswered, and granted
   * by whichever change frees a slot (TransferDispatcher.dispatch).
   */
  | { kind: 'hold' }
  /** The run that held the attempt went silent for a whole lease: count its failure first. */
  | { kind: 'take-over' }
  | { kind: 'grant' };

/**
 * A worker asks before it sends. A dispatched batch runs only in a free slot of its PACS (slots are
 * counted by running batches: one more per slot is dispatched ahead). One attempt has one sender: a run that is not the holder waits
 * while the holder's lease is live — the holder may be the very run whose delivery the broker gave
 * back when its channel closed, still sending (issue 10, defect 8).
 */
export function decideClaim(
  batch: BatchSnapshot | undefined,
  transferStatus: TransferStatus | undefined,
  claim: RunRef,
  slotFree: boolean,
): ClaimDecision {
  if (!batch || transferStatus === undefined) return { kind: 'refuse', reason: 'no such batch' };
  if (batch.attempt !== claim.attempt) {
    return { kind: 'refuse', reason: 'the batch was dispatched again since' };
  }
  if (!isOpen(batch.state)) return { kind: 'refuse', reason: `the batch is ${batch.state}` };
  if (!isActive(transferStatus)) return { kind: 'refuse', reason: `the transfer is ${transferStatus}` };
  if (batch.awaitingArrivals) {
    return { kind: 'refuse', reason: "the batch's run ended; its C-MOVE's instances are arriving" };
  }
  if (batch.state === 'running' && batch.claimant === claim.claimant) return { kind: 'grant' };
  if (batch.state === 'dispatched') return slotFree ? { kind: 'grant' } : { kind: 'hold' };
  if (!batch.leaseLive) return { kind: 'take-over' };
  return {
    kind: 'wait',
    reason: `batch ${batch.seq + 1} is being sent by another worker run; waiting for it to end or go silent`,
    retryAfterMs: Math.min(MAX_CLAIM_WAIT_MS, Math.max(MIN_CLAIM_WAIT_MS, batch.leaseRemainingMs)),
  };
}

export type ProgressDecision =
  | { kind: 'ignore' }
  /** Record the outcomes (facts from the PACS) and nothing else. */
  | { kind: 'record' }
  /** Record, and the reporting run holds the attempt: its lease is renewed. */
  | { kind: 'renew' };

/**
 * A progress report. Only the holder's reports keep the lease (a report of the run that held the
 * attempt last, after its lease ran out and before anyone took it over, gives it back to that run).
 */
export function decideProgress(batch: BatchSnapshot, report: RunRef): ProgressDecision {
  if (batch.attempt !== report.attempt) return { kind: 'ignore' };
  if (isOpen(batch.state) && batch.claimant === report.claimant) return { kind: 'renew' };
  return { kind: 'record' };
}

export type FinishedDecision =
  | { kind: 'ignore' }
  | { kind: 'record' }
  | { kind: 'fail-transfer'; reason: string }
  | { kind: 'retry-later'; reason: string }
  | { kind: 'done' };

/**
 * The end of a run, once its outcomes (all of the run's: the finished report carries them all) are
 * recorded; `unanswered` is how many of the batch's instances still have no outcome. Only the run
 * that holds the attempt, or held it last, settles the batch: a run that lost its claim must not
 * retry or close a batch another run is sending.
 */
export function decideFinished(
  batch: BatchSnapshot,
  report: RunRef & { failure?: { transient: boolean; reason: string } },
  unanswered: number,
): FinishedDecision {
  if (batch.attempt !== report.attempt) return { kind: 'ignore' };
  if (!isOpen(batch.state)) return { kind: 'record' };
  if (batch.claimant !== null && batch.claimant !== report.claimant) return { kind: 'record' };
  if (report.failure && !report.failure.transient) {
    return { kind: 'fail-transfer', reason: report.failure.reason };
  }
  if (unanswered > 0) {
    return {
      kind: 'retry-later',
      reason: report.failure?.reason ?? `the worker finished without an answer for ${unanswered} instances`,
    };
  }
  return { kind: 'done' };
}

export type DeadLetterDecision =
  { kind: 'ignore' } | { kind: 'fail-transfer'; reason: string } | { kind: 'retry-later'; reason: string };

/**
 * A batch command a worker queue dead-lettered. Refused (malformed, invalid): it can never be sent,
 * the transfer fails. Dropped by the broker (its delivery limit: redeliveries that each found
 * config-service or the database away, or a worker that crashed on it): a failed attempt, tried
 * again later — unless a run holds the attempt with a live lease, which will report it.
 */
export function decideDeadLetter(
  batch: BatchSnapshot,
  letter: { attempt: number; refused: boolean; reason: string },
): DeadLetterDecision {
  if (batch.attempt !== letter.attempt || !isOpen(batch.state)) return { kind: 'ignore' };
  const why = `the worker could not handle batch ${batch.seq + 1} and dead-lettered it: ${letter.reason}`;
  if (letter.refused) return { kind: 'fail-transfer', reason: why };
  if (batch.state === 'running' && batch.leaseLive) return { kind: 'ignore' };
  return { kind: 'retry-later', reason: why };
}

export type ExpiryDecision =
  | { kind: 'none' }
  /** Nobody claimed the command: dispatch the batch again, as a new attempt that costs nothing. */
  | { kind: 'dispatch-again'; reason: string }
  /**
   * The holder went silent: a failed attempt. The batch waits, dispatched under the same attempt,
   * for the holder's command to come back (the broker redelivers what a dead worker held).
   */
  | { kind: 'reopen'; reason: string }
  /** A C-MOVE's instances did not all arrive: a failed attempt; the batch goes again for the rest. */
  | { kind: 'retry-later'; reason: string }
  | { kind: 'give-up'; reason: string };

/** A lease that ran out (by the database's clock). */
export function decideExpiry(
  batch: BatchSnapshot,
  options: { maxAttempts: number; leaseMs: number; dispatchLeaseMs: number },
): ExpiryDecision {
  if (!isOpen(batch.state) || batch.leaseLive) return { kind: 'none' };
  if (batch.state === 'dispatched') {
    const seconds = Math.round(options.dispatchLeaseMs / 1000);
    return {
      kind: 'dispatch-again',
      reason: `no worker took batch ${batch.seq + 1} within ${seconds} s — is the worker running? Dispatched again`,
    };
  }
  if (batch.awaitingArrivals) {
    const reason = `instances of batch ${batch.seq + 1} that the PACS was to send by C-MOVE did not arrive within ${Math.round(options.leaseMs / 1000)} s`;
    // retryLater counts the attempt and gives up at maxAttempts itself.
    return { kind: 'retry-later', reason };
  }
  const reason = `the worker sending batch ${batch.seq + 1} stopped reporting for ${Math.round(options.leaseMs / 1000)} s`;
  return failedAttempt(batch, options.maxAttempts) === 'give-up'
    ? { kind: 'give-up', reason: `${reason} (gave up after ${batch.failures + 1} attempts)` }
    : { kind: 'reopen', reason };
}

/** After one more failed attempt: try again, or the attempts are spent. */
export function failedAttempt(
  batch: Pick<BatchSnapshot, 'failures'>,
  maxAttempts: number,
): 'retry' | 'give-up' {
  return batch.failures + 1 >= maxAttempts ? 'give-up' : 'retry';
}

/** The transfer's `attempts` once a run of this batch is granted: its try number, with retries. */
export function attemptsAfterClaim(
  transfer: { attempts: number; retries: number },
  batch: Pick<BatchSnapshot, 'failures'>,
): number {
  return Math.max(transfer.attempts, transfer.retries + batch.failures + 1);
}
