import {
  attemptsAfterClaim,
  decideClaim,
  decideDeadLetter,
  decideExpiry,
  decideFinished,
  decideProgress,
  type BatchSnapshot,
} from './batch-transitions';

const HOLDER = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

const batch = (changes: Partial<BatchSnapshot> = {}): BatchSnapshot => ({
  seq: 0,
  state: 'running',
  attempt: 3,
  claimant: HOLDER,
  failures: 0,
  leaseLive: true,
  leaseRemainingMs: 40_000,
  awaitingArrivals: false,
  ...changes,
});
const options = { maxAttempts: 3, leaseMs: 60_000, dispatchLeaseMs: 600_000 };

const FREE = true;
const EVERY_SLOT_RUNNING = false;

describe('decideClaim', () => {
  it('holds the claim of a batch dispatched ahead while every slot runs; its holder is granted in any case', () => {
    expect(
      decideClaim(
        batch({ state: 'dispatched', claimant: null }),
        'running',
        { attempt: 3, claimant: OTHER },
        EVERY_SLOT_RUNNING,
      ),
    ).toEqual({ kind: 'hold' });
    // A reopened batch (its holder went silent) waits for a slot like any other dispatched one.
    expect(
      decideClaim(
        batch({ state: 'dispatched' }),
        'running',
        { attempt: 3, claimant: HOLDER },
        EVERY_SLOT_RUNNING,
      ),
    ).toEqual({ kind: 'hold' });
    expect(decideClaim(batch(), 'running', { attempt: 3, claimant: HOLDER }, EVERY_SLOT_RUNNING)).toEqual({
      kind: 'grant',
    });
  });

  it('refuses any run a batch whose C-MOVE run ended and whose instances are arriving', () => {
    expect(
      decideClaim(batch({ awaitingArrivals: true }), 'running', { attempt: 3, claimant: HOLDER }, FREE),
    ).toEqual({ kind: 'refuse', reason: "the batch's run ended; its C-MOVE's instances are arriving" });
  });

  it('grants a dispatched batch, and the holding run its own claim again', () => {
    expect(
      decideClaim(
        batch({ state: 'dispatched', claimant: null }),
        'queued',
        { attempt: 3, claimant: OTHER },
        FREE,
      ),
    ).toEqual({ kind: 'grant' });
    expect(decideClaim(batch(), 'running', { attempt: 3, claimant: HOLDER }, FREE)).toEqual({
      kind: 'grant',
    });
  });

  it('tells a second run of an attempt that is being sent to wait: never two senders', () => {
    expect(
      decideClaim(batch({ leaseRemainingMs: 40_000 }), 'running', { attempt: 3, claimant: OTHER }, FREE),
    ).toEqual({
      kind: 'wait',
      reason: 'batch 1 is being sent by another worker run; waiting for it to end or go silent',
      retryAfterMs: 5_000,
    });
    expect(
      decideClaim(batch({ leaseRemainingMs: 1_200 }), 'running', { attempt: 3, claimant: OTHER }, FREE),
    ).toMatchObject({
      retryAfterMs: 1_200,
    });
  });

  it('lets the second run take over once the holder went silent for a whole lease', () => {
    expect(
      decideClaim(
        batch({ leaseLive: false, leaseRemainingMs: 0 }),
        'running',
        {
          attempt: 3,
          claimant: OTHER,
        },
        FREE,
      ),
    ).toEqual({ kind: 'take-over' });
  });

  it('refuses stale, closed and unknown batches, and batches of transfers that ended', () => {
    expect(decideClaim(batch(), 'running', { attempt: 2, claimant: OTHER }, FREE)).toEqual({
      kind: 'refuse',
      reason: 'the batch was dispatched again since',
    });
    expect(decideClaim(batch({ state: 'done' }), 'running', { attempt: 3, claimant: HOLDER }, FREE)).toEqual({
      kind: 'refuse',
      reason: 'the batch is done',
    });
    expect(
      decideClaim(batch({ state: 'dispatched' }), 'cancelled', { attempt: 3, claimant: OTHER }, FREE),
    ).toEqual({
      kind: 'refuse',
      reason: 'the transfer is cancelled',
    });
    expect(decideClaim(undefined, undefined, { attempt: 1, claimant: OTHER }, FREE)).toEqual({
      kind: 'refuse',
      reason: 'no such batch',
    });
  });
});

describe('decideProgress', () => {
  it("renews the holder's lease, also after it ran out if nobody took the batch over", () => {
    expect(decideProgress(batch(), { attempt: 3, claimant: HOLDER })).toEqual({ kind: 'renew' });
    expect(
      decideProgress(batch({ state: 'dispatched', leaseLive: false }), { attempt: 3, claimant: HOLDER }),
    ).toEqual({
      kind: 'renew',
    });
  });

  it("records another run's outcomes without touching the lease, and ignores other attempts", () => {
    expect(decideProgress(batch(), { attempt: 3, claimant: OTHER })).toEqual({ kind: 'record' });
    expect(decideProgress(batch({ state: 'done' }), { attempt: 3, claimant: HOLDER })).toEqual({
      kind: 'record',
    });
    expect(decideProgress(batch(), { attempt: 2, claimant: HOLDER })).toEqual({ kind: 'ignore' });
  });
});

describe('decideFinished', () => {
  const run = { attempt: 3, claimant: HOLDER };

  it('closes the batch when every instance has its answer', () => {
    expect(decideFinished(batch(), run, 0)).toEqual({ kind: 'done' });
  });

  it('retries later what is unanswered, and fails the transfer on a permanent failure', () => {
    expect(decideFinished(batch(), run, 2)).toEqual({
      kind: 'retry-later',
      reason: 'the worker finished without an answer for 2 instances',
    });
    expect(decideFinished(batch(), { ...run, failure: { transient: true, reason: 'refused' } }, 2)).toEqual({
      kind: 'retry-later',
      reason: 'refused',
    });
    expect(decideFinished(batch(), { ...run, failure: { transient: false, reason: 'rejected' } }, 2)).toEqual(
      {
        kind: 'fail-transfer',
        reason: 'rejected',
      },
    );
  });

  it('lets only the run that holds the attempt (or held it last) settle it', () => {
    expect(decideFinished(batch({ claimant: OTHER }), run, 0)).toEqual({ kind: 'record' });
    expect(
      decideFinished(batch({ claimant: OTHER }), { ...run, failure: { transient: true, reason: 'x' } }, 3),
    ).toEqual({
      kind: 'record',
    });
    expect(decideFinished(batch({ state: 'dispatched', leaseLive: false }), run, 0)).toEqual({
      kind: 'done',
    });
    expect(decideFinished(batch({ state: 'pending' }), run, 0)).toEqual({ kind: 'record' });
    expect(decideFinished(batch(), { ...run, attempt: 2 }, 0)).toEqual({ kind: 'ignore' });
  });
});

describe('decideDeadLetter', () => {
  it('fails the transfer for a command refused as invalid', () => {
    expect(
      decideDeadLetter(batch({ state: 'dispatched' }), { attempt: 3, refused: true, reason: 'invalid' }),
    ).toEqual({
      kind: 'fail-transfer',
      reason: 'the worker could not handle batch 1 and dead-lettered it: invalid',
    });
  });

  it('retries later a command the broker dropped for its delivery count, unless a live run holds it', () => {
    const letter = { attempt: 3, refused: false, reason: 'delivered 6 times' };
    expect(decideDeadLetter(batch({ state: 'dispatched' }), letter)).toEqual({
      kind: 'retry-later',
      reason: 'the worker could not handle batch 1 and dead-lettered it: delivered 6 times',
    });
    expect(decideDeadLetter(batch({ leaseLive: false }), letter)).toMatchObject({ kind: 'retry-later' });
    expect(decideDeadLetter(batch(), letter)).toEqual({ kind: 'ignore' });
    expect(decideDeadLetter(batch({ state: 'dispatched' }), { ...letter, attempt: 2 })).toEqual({
      kind: 'ignore',
    });
  });
});

describe('decideExpiry', () => {
  it('dispatches an unclaimed batch again without counting a failed attempt', () => {
    expect(decideExpiry(batch({ state: 'dispatched', claimant: null, leaseLive: false }), options)).toEqual({
      kind: 'dispatch-again',
      reason: 'no worker took batch 1 within 600 s — is the worker running? Dispatched again',
    });
  });

  it("counts a silent holder's attempt as failed, and gives up once the attempts are spent", () => {
    expect(decideExpiry(batch({ leaseLive: false, failures: 1 }), options)).toEqual({
      kind: 'reopen',
      reason: 'the worker sending batch 1 stopped reporting for 60 s',
    });
    expect(decideExpiry(batch({ leaseLive: false, failures: 2 }), options)).toEqual({
      kind: 'give-up',
      reason: 'the worker sending batch 1 stopped reporting for 60 s (gave up after 3 attempts)',
    });
  });

  it('retries a C-MOVE batch whose instances did not all arrive within its lease (a failed attempt)', () => {
    expect(decideExpiry(batch({ leaseLive: false, awaitingArrivals: true }), options)).toEqual({
      kind: 'retry-later',
      reason: 'instances of batch 1 that the PACS was to send by C-MOVE did not arrive within 60 s',
    });
    expect(decideExpiry(batch({ awaitingArrivals: true }), options)).toEqual({ kind: 'none' });
  });

  it('leaves a live lease and a closed batch alone', () => {
    expect(decideExpiry(batch(), options)).toEqual({ kind: 'none' });
    expect(decideExpiry(batch({ state: 'done', leaseLive: false }), options)).toEqual({ kind: 'none' });
  });
});

describe('attemptsAfterClaim', () => {
  it('is the try number of the batch, after the retries a person asked for, never going down', () => {
    expect(attemptsAfterClaim({ attempts: 0, retries: 0 }, { failures: 0 })).toBe(1);
    expect(attemptsAfterClaim({ attempts: 1, retries: 0 }, { failures: 2 })).toBe(3);
    expect(attemptsAfterClaim({ attempts: 3, retries: 1 }, { failures: 0 })).toBe(3);
  });
});
