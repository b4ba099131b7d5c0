import {
  CLOSED_CIRCUIT,
  attemptVerdict,
  circuitOpenReason,
  coolDownMs,
  decideAttempt,
  decideDispatch,
  waitedTooLong,
  type CircuitSnapshot,
} from './circuit-transitions';

const options = { failuresToOpen: 3, coolDownMs: 1_000, waitMs: 6_000 };
const REFUSED = 'connection refused by pacs:104 — nothing listens there';

const open = (fields: Partial<CircuitSnapshot> = {}): CircuitSnapshot => ({
  ...CLOSED_CIRCUIT,
  state: 'open',
  failures: 3,
  openedAt: new Date('2026-12-07T12:00:00Z'),
  lastError: REFUSED,
  ...fields,
});
const halfOpen = (fields: Partial<CircuitSnapshot> = {}): CircuitSnapshot =>
  open({ state: 'half-open', probeBatchId: 'probe', probeOut: true, ...fields });
const unreachable = (batchId = 'b1') => ({ batchId, verdict: 'unreachable' as const, reason: REFUSED });
const answered = (batchId = 'b1') => ({ batchId, verdict: 'answered' as const, reason: 'the PACS answered' });

describe('attemptVerdict: what a finished run says about its PACS', () => {
  it('any outcome, or no failure at all: the PACS answered', () => {
    expect(attemptVerdict({ outcomes: [{}] })).toBe('answered');
    expect(attemptVerdict({ outcomes: [{}], failure: { unreachable: true } })).toBe('answered');
    expect(attemptVerdict({ outcomes: [] })).toBe('answered');
  });

  it("no outcome: the worker's classified failure decides; none classified says nothing", () => {
    expect(attemptVerdict({ outcomes: [], failure: { unreachable: true } })).toBe('unreachable');
    expect(attemptVerdict({ outcomes: [], failure: { unreachable: false } })).toBe('answered');
    expect(attemptVerdict({ outcomes: [], failure: {} })).toBe('unknown');
  });
});

describe('decideAttempt: closed', () => {
  it('counts unreachable attempts in a row and opens at failuresToOpen', () => {
    expect(decideAttempt(CLOSED_CIRCUIT, unreachable(), options)).toEqual({
      kind: 'count',
      failures: 1,
      lastError: REFUSED,
    });
    expect(decideAttempt({ ...CLOSED_CIRCUIT, failures: 2 }, unreachable(), options)).toEqual({
      kind: 'open',
      reopened: false,
      failures: 3,
      reopenings: 0,
      coolDownMs: 1_000,
      lastError: REFUSED,
    });
  });

  it('an answer starts the count again; nothing to start again changes nothing', () => {
    expect(decideAttempt({ ...CLOSED_CIRCUIT, failures: 2 }, answered(), options)).toEqual({ kind: 'reset' });
    expect(decideAttempt(CLOSED_CIRCUIT, answered(), options)).toEqual({ kind: 'none' });
  });

  it("a failure that says nothing about the PACS (the worker's own) neither counts nor resets", () => {
    const circuit = { ...CLOSED_CIRCUIT, failures: 2 };
    expect(decideAttempt(circuit, { batchId: 'b1', verdict: 'unknown', reason: 'x' }, options)).toEqual({
      kind: 'none',
    });
  });
});

describe('decideAttempt: open and half-open', () => {
  it('the probe finding the PACS unreachable opens it again, for twice the cool-down', () => {
    expect(decideAttempt(halfOpen({ reopenings: 1 }), unreachable('probe'), options)).toEqual({
      kind: 'open',
      reopened: true,
      failures: 4,
      reopenings: 2,
      coolDownMs: 4_000,
      lastError: REFUSED,
    });
  });

  it('a batch sent before the circuit opened, failing late, changes nothing', () => {
    expect(decideAttempt(open(), unreachable(), options)).toEqual({ kind: 'none' });
    expect(decideAttempt(halfOpen(), unreachable('not-the-probe'), options)).toEqual({ kind: 'none' });
  });

  it('any answer closes it, the probe’s or a late one’s', () => {
    expect(decideAttempt(halfOpen(), answered('probe'), options)).toEqual({ kind: 'close' });
    expect(decideAttempt(open(), answered('late'), options)).toEqual({ kind: 'close' });
  });
});

describe('coolDownMs: exponential, bounded by the wait', () => {
  it('doubles with each failed probe, at most waitMs', () => {
    expect([0, 1, 2, 3, 4].map((n) => coolDownMs(options, n))).toEqual([1_000, 2_000, 4_000, 6_000, 6_000]);
  });

  it('never shorter than the first cool-down, whatever the wait', () => {
    expect(coolDownMs({ ...options, waitMs: 0 }, 3)).toBe(1_000);
  });
});

describe('decideDispatch', () => {
  it('closed: every free slot; open in its cool-down: nothing; cool-down over: one probe', () => {
    expect(decideDispatch(CLOSED_CIRCUIT)).toEqual({ kind: 'all' });
    expect(decideDispatch(open())).toEqual({ kind: 'hold' });
    expect(decideDispatch(open({ probeDue: true }))).toEqual({ kind: 'probe' });
  });

  it('half-open: nothing while the probe is out; a probe that ended without a verdict is replaced', () => {
    expect(decideDispatch(halfOpen())).toEqual({ kind: 'hold' });
    expect(decideDispatch(halfOpen({ probeOut: false }))).toEqual({ kind: 'probe' });
  });
});

describe('waitedTooLong: when the waiting transfers fail', () => {
  it('once open for the wait bound, while cooling down after the PACS was found unreachable', () => {
    expect(waitedTooLong(open({ openForMs: 6_000 }), options)).toBe(true);
    expect(waitedTooLong(open({ openForMs: 5_999 }), options)).toBe(false);
  });

  it('not while a probe is due or out: its answer may close the circuit', () => {
    expect(waitedTooLong(open({ openForMs: 60_000, probeDue: true }), options)).toBe(false);
    expect(waitedTooLong(halfOpen({ openForMs: 60_000 }), options)).toBe(false);
    expect(waitedTooLong({ ...CLOSED_CIRCUIT, failures: 2 }, options)).toBe(false);
  });
});

it('circuitOpenReason names the PACS, when and why the circuit opened', () => {
  expect(circuitOpenReason({ aeTitle: 'PACS_A', name: 'Radiology A' }, open(), options)).toBe(
    'PACS PACS_A ("Radiology A") is unreachable: its circuit opened at 2026-12-07T12:00:00.000Z after ' +
      '3 failed attempts in a row, and no probe since got an answer; the last failure: ' +
      REFUSED,
  );
});
