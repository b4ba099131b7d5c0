import { Logger } from '@nestjs/common';
import type { ExportBatchClaim } from '@pacslink/contracts';
import { RpcRemoteError, RpcTimeoutError, type RpcClient } from '@pacslink/messaging';
import { BatchClaim, ClaimUnsettledError, DEFAULT_CLAIM_TIMING } from './batch-claim';

const run = {
  transferId: '0b7a1c3e-2f5d-4e8a-9c6b-1d2e3f4a5b6c',
  batchId: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b',
  attempt: 1,
  claimant: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
};

/** config-service as the worker sees it: one scripted answer (or failure) per claim. */
function configService(answers: (() => Promise<ExportBatchClaim>)[]) {
  const asked: number[] = [];
  const rpc = {
    request: () => {
      asked.push(Date.now());
      const next = answers.shift();
      if (!next) throw new Error('asked more often than scripted');
      return next();
    },
  } as unknown as RpcClient;
  return { rpc, asked };
}

/** As RpcClient times out: after the answer timeout. */
const unanswered = () =>
  new Promise<ExportBatchClaim>((_, reject) =>
    setTimeout(
      () => reject(new RpcTimeoutError('no answer within 15000 ms')),
      DEFAULT_CLAIM_TIMING.answerTimeoutMs,
    ),
  );
/** A claim held by config-service until a slot frees, answered then. */
const heldFor = (ms: number) => () =>
  new Promise<ExportBatchClaim>((resolve) => setTimeout(() => resolve({ go: true }), ms));
const databaseDown = () => Promise.reject(new RpcRemoteError('connect ECONNREFUSED 127.0.0.1:5432'));

describe('BatchClaim', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('asks again, holding the delivery, while config-service cannot answer, and goes once it does (issue 10)', async () => {
    // Six failed claims used to spend a quorum queue's delivery limit of 5 and dead-letter the batch.
    const { rpc, asked } = configService([
      ...Array.from({ length: 8 }, (_, n) => (n % 2 ? unanswered : databaseDown)),
      () => Promise.resolve({ go: true }),
    ]);
    const claim = new BatchClaim(rpc).settle(run, new AbortController().signal);
    await jest.advanceTimersByTimeAsync(5 * 60_000);
    await expect(claim).resolves.toEqual({ go: true });
    expect(asked).toHaveLength(9);
    // Backoff: the waits grow (1 s doubling, with jitter), up to 30 s.
    const waits = asked.slice(1).map((at, n) => at - asked[n]);
    expect(waits[0]).toBeLessThanOrEqual(1_000);
    expect(waits[7]).toBeGreaterThanOrEqual(15_000);
  });

  it('waits as told while another run holds the attempt, then drops the command its holder finished', async () => {
    const { rpc, asked } = configService([
      () => Promise.resolve({ go: false, reason: 'being sent by another run', retryAfterMs: 5_000 }),
      () => Promise.resolve({ go: false, reason: 'being sent by another run', retryAfterMs: 5_000 }),
      () => Promise.resolve({ go: false, reason: 'the batch is done' }),
    ]);
    const claim = new BatchClaim(rpc).settle(run, new AbortController().signal);
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(claim).resolves.toEqual({ go: false, reason: 'the batch is done' });
    expect(asked.slice(1).map((at, n) => at - asked[n])).toEqual([5_000, 5_000]);
  });

  it('waits for a held claim as long as an answer may take, and asks again at once when none came', async () => {
    // Held past one answer timeout (the batch ahead of it still runs), then granted on the re-ask's hold.
    const { rpc, asked } = configService([unanswered, heldFor(4_000)]);
    const claim = new BatchClaim(rpc).settle(run, new AbortController().signal);
    await jest.advanceTimersByTimeAsync(DEFAULT_CLAIM_TIMING.answerTimeoutMs + 4_000);
    await expect(claim).resolves.toEqual({ go: true });
    // No backoff after a timeout: the held claim is renewed at once.
    expect(asked[1] - asked[0]).toBe(DEFAULT_CLAIM_TIMING.answerTimeoutMs);
  });

  it('gives the delivery back once its patience is spent, and at once when the worker stops', async () => {
    const patient = new BatchClaim(configService(Array.from({ length: 100 }, () => unanswered)).rpc, {
      ...DEFAULT_CLAIM_TIMING,
      patienceMs: 60_000,
    }).settle(run, new AbortController().signal);
    const gaveUp = patient.catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(90_000);
    expect(await gaveUp).toBeInstanceOf(ClaimUnsettledError);

    const stopping = new AbortController();
    const waiting = new BatchClaim(configService([databaseDown, databaseDown]).rpc)
      .settle(run, stopping.signal)
      .catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(10);
    stopping.abort();
    await jest.advanceTimersByTimeAsync(0);
    expect(await waiting).toBeInstanceOf(ClaimUnsettledError);
  });
});
