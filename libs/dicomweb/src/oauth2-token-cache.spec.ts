import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';
import { OAuth2TokenCache, type ClientCredentialsGrant, type IssuedToken } from './oauth2-token-cache';

const GRANT: ClientCredentialsGrant = {
  tokenUrl: new URL('https://idp.example/oauth2/token'),
  clientId: 'pacslink',
  clientSecret: 's3cret-value',
  scope: 'dicomweb',
  clientAuthentication: 'client_secret_basic',
  timeoutMs: 5_000,
};

/** A token endpoint double: counts requests, issues tok-1, tok-2, … with the given lifetime. */
function fakeEndpoint(expiresInSeconds: number | undefined = 3600) {
  const calls: ClientCredentialsGrant[] = [];
  const fetchToken = jest.fn((grant: ClientCredentialsGrant): Promise<IssuedToken> => {
    calls.push(grant);
    return Promise.resolve({ accessToken: `tok-${calls.length}`, expiresInSeconds });
  });
  return { calls, fetchToken };
}

function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('OAuth2TokenCache', () => {
  it('reuses a token until expires_in minus 30 s, then fetches a new one', async () => {
    const clock = fakeClock();
    const { calls, fetchToken } = fakeEndpoint(3600);
    const cache = new OAuth2TokenCache(fetchToken, { now: clock.now });

    expect(await cache.token(GRANT)).toEqual({ value: 'tok-1', fresh: true });
    clock.advance(3_569_999);
    expect(await cache.token(GRANT)).toEqual({ value: 'tok-1', fresh: false });
    clock.advance(1);
    expect(await cache.token(GRANT)).toEqual({ value: 'tok-2', fresh: true });
    expect(calls).toHaveLength(2);
  });

  it('uses a 10 % margin for short-lived tokens', async () => {
    const clock = fakeClock();
    const { calls, fetchToken } = fakeEndpoint(60);
    const cache = new OAuth2TokenCache(fetchToken, { now: clock.now });

    await cache.token(GRANT);
    clock.advance(53_999);
    expect((await cache.token(GRANT)).value).toBe('tok-1');
    clock.advance(1);
    expect((await cache.token(GRANT)).value).toBe('tok-2');
    expect(calls).toHaveLength(2);
  });

  it('computes expiry from when the request started, not when the answer came', () => {
    const cache = new OAuth2TokenCache(fakeEndpoint().fetchToken);
    expect(cache.refreshAt(1_000, 100)).toBe(1_000 + 100_000 - 10_000);
    expect(cache.refreshAt(1_000, 3600)).toBe(1_000 + 3_600_000 - 30_000);
    expect(cache.refreshAt(1_000, 0)).toBe(1_000);
    // no expires_in: a default lifetime (RFC 6749 5.1 makes it optional)
    expect(cache.refreshAt(1_000, undefined)).toBe(1_000 + 300_000 - 30_000);
  });

  it('never reuses a token issued with expires_in 0', async () => {
    const clock = fakeClock();
    const { calls, fetchToken } = fakeEndpoint(0);
    const cache = new OAuth2TokenCache(fetchToken, { now: clock.now });
    await cache.token(GRANT);
    await cache.token(GRANT);
    expect(calls).toHaveLength(2);
  });

  it('shares one token request among concurrent callers', async () => {
    let release: (token: IssuedToken) => void = () => undefined;
    const fetchToken = jest.fn(
      () =>
        new Promise<IssuedToken>((resolve) => {
          release = resolve;
        }),
    );
    const cache = new OAuth2TokenCache(fetchToken);
    const waiting = Promise.all([cache.token(GRANT), cache.token(GRANT), cache.token(GRANT)]);
    release({ accessToken: 'shared', expiresInSeconds: 600 });
    expect((await waiting).map((token) => token.value)).toEqual(['shared', 'shared', 'shared']);
    expect(fetchToken).toHaveBeenCalledTimes(1);
  });

  it('keys tokens by token URL, client ID, scope and secret', async () => {
    const { calls, fetchToken } = fakeEndpoint();
    const cache = new OAuth2TokenCache(fetchToken);
    await cache.token(GRANT);
    await cache.token({ ...GRANT, timeoutMs: 1 }); // same key: the timeout is not part of it
    await cache.token({ ...GRANT, scope: 'other' });
    await cache.token({ ...GRANT, scope: undefined });
    await cache.token({ ...GRANT, clientId: 'other' });
    await cache.token({ ...GRANT, tokenUrl: new URL('https://idp2.example/token') });
    // a changed secret must not ride on a token the old secret obtained
    await cache.token({ ...GRANT, clientSecret: 'rotated' });
    expect(calls).toHaveLength(6);
    expect(OAuth2TokenCache.keyOf(GRANT)).not.toContain(GRANT.clientSecret);
  });

  it('does not cache a failure: the next call asks again', async () => {
    const fetchToken = jest
      .fn<Promise<IssuedToken>, [ClientCredentialsGrant]>()
      .mockRejectedValueOnce(new DicomwebError(DicomwebErrorCode.TokenEndpointRejected, 'no'))
      .mockResolvedValueOnce({ accessToken: 'ok', expiresInSeconds: 60 });
    const cache = new OAuth2TokenCache(fetchToken);
    await expect(cache.token(GRANT)).rejects.toMatchObject({ code: DicomwebErrorCode.TokenEndpointRejected });
    expect((await cache.token(GRANT)).value).toBe('ok');
  });

  it('drops a token the server rejected, but not one another caller already replaced', async () => {
    const { calls, fetchToken } = fakeEndpoint();
    const cache = new OAuth2TokenCache(fetchToken);
    await cache.token(GRANT);
    expect(await cache.token(GRANT, { rejected: 'tok-1' })).toEqual({ value: 'tok-2', fresh: true });
    // a late 401 for tok-1 does not throw away tok-2
    expect(await cache.token(GRANT, { rejected: 'tok-1' })).toEqual({ value: 'tok-2', fresh: false });
    expect(calls).toHaveLength(2);
  });

  it('fetches anew when forced, and keeps the new token', async () => {
    const { calls, fetchToken } = fakeEndpoint();
    const cache = new OAuth2TokenCache(fetchToken);
    await cache.token(GRANT);
    expect(await cache.token(GRANT, { forceRefresh: true })).toEqual({ value: 'tok-2', fresh: true });
    expect(await cache.token(GRANT)).toEqual({ value: 'tok-2', fresh: false });
    expect(calls).toHaveLength(2);
  });

  it('holds at most maxEntries keys', async () => {
    const cache = new OAuth2TokenCache(fakeEndpoint().fetchToken, { maxEntries: 2 });
    for (const clientId of ['a', 'b', 'c', 'd']) await cache.token({ ...GRANT, clientId });
    expect(cache.size).toBe(2);
  });
});
