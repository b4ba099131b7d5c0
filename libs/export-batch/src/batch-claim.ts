import { Logger } from '@nestjs/common';
import { ExportBatchReports, type ExportBatchClaim, type ExportBatchRunRef } from '@pacslink/contracts';
import { RpcTimeoutError, type RpcClient } from '@pacslink/messaging';

export interface ClaimTiming {
  /**
   * How long one claim waits for config-service's answer (also the request's expiration). A claim
   * of a batch dispatched ahead is held unanswered until a slot frees: then it is asked again at
   * once (the held claim is renewed), so a lost answer costs one timeout.
   */
  answerTimeoutMs: number;
  /**
   * How long a run holds its delivery while its claim goes unanswered or is told to wait; then the
   * delivery goes back to the queue (one of its delivery limit spent). Well inside RabbitMQ's
   * consumer_timeout (30 min), which would close the channel with every delivery on it.
   */
  patienceMs: number;
  /** First wait after a claim that got no answer or an error; doubling, at most maxRetryMs. */
  firstRetryMs: number;
  maxRetryMs: number;
}

/**
 * Ten minutes of patience per delivery, six deliveries (the queue's delivery limit of 5): about an
 * hour of config-service or database outage before the command is dead-lettered, which even then
 * costs the batch one attempt, not the transfer (ADR 0006, amendment of issue 10).
 */
export const DEFAULT_CLAIM_TIMING: ClaimTiming = {
  answerTimeoutMs: 15_000,
  patienceMs: 10 * 60_000,
  firstRetryMs: 1_000,
  maxRetryMs: 30_000,
};

/** One warning per this many tries of one claim (the first always): an outage is one story. */
const WARN_EVERY_TRIES = 10;

/** The claim could not be settled while the delivery was held: it goes back to the queue. */
export class ClaimUnsettledError extends Error {
  override readonly name = 'ClaimUnsettledError';
}

/**
 * Claims a batch for one run. A claim config-service cannot answer (it is down, restarting, or its
 * database is away) is asked again with backoff while the delivery is held, rather than rejected
 * into the queue's delivery limit (issue 10, defect 1); a claim told to wait (another run holds the
 * attempt with a live lease) waits and asks again. Resolves with go, or with a refusal (drop the
 * command); rejects with ClaimUnsettledError once its patience is spent or `stopping` aborts.
 */
export class BatchClaim {
  private readonly logger = new Logger(BatchClaim.name);

  constructor(
    private readonly rpc: RpcClient,
    private readonly timing: ClaimTiming = DEFAULT_CLAIM_TIMING,
  ) {}

  async settle(run: ExportBatchRunRef, stopping: AbortSignal): Promise<ExportBatchClaim> {
    const deadline = Date.now() + this.timing.patienceMs;
    for (let tries = 1; ; tries++) {
      let delayMs: number;
      let why: string;
      let held = false;
      try {
        const answer = await this.rpc.request<ExportBatchRunRef, ExportBatchClaim>(
          ExportBatchReports.Claim,
          run,
          this.timing.answerTimeoutMs,
        );
        if (answer.go || answer.retryAfterMs === undefined) return answer;
        delayMs = answer.retryAfterMs;
        why = answer.reason ?? 'told to wait';
      } catch (error) {
        // No answer: the claim was held (or config-service is away; the timeout paced the asking).
        held = error instanceof RpcTimeoutError;
        const ceiling = Math.min(
          this.timing.maxRetryMs,
          this.timing.firstRetryMs * 2 ** Math.min(tries - 1, 16),
        );
        delayMs = held ? 0 : Math.round(ceiling * (0.5 + Math.random() / 2));
        why = error instanceof Error ? error.message : String(error);
      }
      if (stopping.aborted) throw new ClaimUnsettledError(`the worker is stopping; the claim waited: ${why}`);
      if (Date.now() + delayMs > deadline) {
        throw new ClaimUnsettledError(
          `no claim settled within ${Math.round(this.timing.patienceMs / 1000)} s (${tries} tries): ${why}`,
        );
      }
      // A held claim is expected to go unanswered for as long as the batch ahead of it runs.
      if (tries % WARN_EVERY_TRIES === (held ? 0 : 1)) {
        this.logger.warn({
          msg: 'export batch claim not settled; asking again',
          ...run,
          tries,
          delayMs,
          why,
        });
      }
      if (delayMs > 0 && !(await sleep(delayMs, stopping))) {
        throw new ClaimUnsettledError(`the worker is stopping; the claim waited: ${why}`);
      }
    }
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (slept: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
      resolve(slept);
    };
    const aborted = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', aborted, { once: true });
  });
}
