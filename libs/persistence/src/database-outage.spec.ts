import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, waitForDatabase } from './database-outage';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const sqlError = (code: string, message: string) =>
  new QueryFailedError('SELECT 1', [], Object.assign(new Error(message), { code }));

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', refused],
    ['a refused connection to every address', new AggregateError([refused], 'connect failed')],
    ['a connection the server ended', new Error('Connection terminated unexpectedly')],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    [
      'a server shutting down (57P01)',
      sqlError('57P01', 'terminating connection due to administrator command'),
    ],
    ['a server starting up (57P03)', sqlError('57P03', 'the database system is starting up')],
    ['too many connections (53300)', sqlError('53300', 'sorry, too many clients already')],
    ['a serialization failure (40001)', sqlError('40001', 'could not serialize access')],
    ['a deadlock (40P01)', sqlError('40P01', 'deadlock detected')],
  ])('says yes to %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation (23505)', sqlError('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error (42601)', sqlError('42601', 'syntax error at or near "SELEC"')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['no error at all', undefined],
  ])('says no to %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('waitForDatabase', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs the work again, with growing waits, until the database answers', async () => {
    let calls = 0;
    const waits: number[] = [];
    const result = waitForDatabase(
      () => (++calls < 4 ? Promise.reject(refused) : Promise.resolve('applied')),
      { boundMs: 60_000, onWait: (_, __, delayMs) => waits.push(delayMs) },
    );
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(result).resolves.toBe('applied');
    expect(calls).toBe(4);
    expect(waits).toHaveLength(3);
    expect(waits[2]).toBeGreaterThan(waits[0]);
  });

  it('rethrows at once what waiting cannot cure, and the last outage error past its bound', async () => {
    const bug = new TypeError('bug');
    await expect(waitForDatabase(() => Promise.reject(bug), { boundMs: 60_000 })).rejects.toBe(bug);

    let calls = 0;
    const outage = waitForDatabase(() => (calls++, Promise.reject(refused)), { boundMs: 3_000 });
    const settled = outage.catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(await settled).toBe(refused);
    expect(calls).toBeGreaterThan(2);
  });

  it('stops waiting when its signal aborts', async () => {
    const stopping = new AbortController();
    const outage = waitForDatabase(() => Promise.reject(refused), {
      boundMs: 60_000,
      signal: stopping.signal,
    });
    const settled = outage.catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(100);
    stopping.abort();
    await jest.advanceTimersByTimeAsync(0);
    expect(await settled).toBe(refused);
  });
});
