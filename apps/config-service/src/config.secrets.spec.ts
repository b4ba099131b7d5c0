import { randomBytes } from 'node:crypto';
import { loadConfigServiceEnv } from './config';

describe('config-service environment: SECRETS_KEY and SECRETS_PREVIOUS_KEYS, validated at boot', () => {
  const key = () => randomBytes(32).toString('base64');

  it('takes both, and refuses a bad entry naming the variable and its position, never the value', () => {
    expect(loadConfigServiceEnv({ SECRETS_KEY: key(), SECRETS_PREVIOUS_KEYS: key() })).toMatchObject({
      SECRETS_KEY: expect.any(String) as unknown,
    });
    const short = randomBytes(20).toString('base64');
    const refusal = (() => {
      try {
        loadConfigServiceEnv({ SECRETS_KEY: short, SECRETS_PREVIOUS_KEYS: `${key()}, ${short}` });
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
      return 'accepted';
    })();
    expect(refusal).toMatch(/SECRETS_KEY: SECRETS_KEY must be 32 random bytes in base64/);
    expect(refusal).toMatch(/SECRETS_PREVIOUS_KEYS: .*: entry 2 is not/);
    expect(refusal).not.toContain(short);
  });
});
