import { withinDeadline } from './deadline';

describe('withinDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('answers the work when it ends in time', async () => {
    await expect(withinDeadline(1_000, 'late', () => Promise.resolve(42))).resolves.toBe(42);
  });

  it('rejects with the message at the deadline, however long the work would still take, and aborts it', async () => {
    let signal: AbortSignal | undefined;
    const answer = withinDeadline(1_000, 'no answer within 1000 ms', (given) => {
      signal = given;
      return new Promise<never>(() => undefined);
    });
    const settled = expect(answer).rejects.toThrow('no answer within 1000 ms');
    jest.advanceTimersByTime(999);
    expect(signal?.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    await settled;
    expect(signal?.aborted).toBe(true);
  });
});
