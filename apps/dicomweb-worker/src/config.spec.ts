import { randomBytes } from 'node:crypto';
import { loadDicomwebWorkerEnv } from './config';

/** Why loadDicomwebWorkerEnv refuses `source`. */
function refusalOf(source: NodeJS.ProcessEnv): string {
  try {
    loadDicomwebWorkerEnv(source);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return 'accepted';
}

describe('dicomweb-worker environment: the keys that unseal PACS credentials, validated at boot', () => {
  const key = () => randomBytes(32).toString('base64');

  it('takes SECRETS_KEY and SECRETS_PREVIOUS_KEYS', () => {
    const previous = `${key()},${key()}`;
    expect(loadDicomwebWorkerEnv({ SECRETS_KEY: key(), SECRETS_PREVIOUS_KEYS: previous })).toMatchObject({
      SECRETS_PREVIOUS_KEYS: previous,
    });
  });

  it('refuses a key that is not 32 bytes in base64, naming the variable and entry, never the value', () => {
    const short = randomBytes(16).toString('base64');
    expect(refusalOf({ SECRETS_KEY: short })).toMatch(
      /SECRETS_KEY: SECRETS_KEY must be 32 random bytes in base64/,
    );
    const refusal = refusalOf({ SECRETS_KEY: key(), SECRETS_PREVIOUS_KEYS: `${key()},${short}` });
    expect(refusal).toMatch(/SECRETS_PREVIOUS_KEYS: .*: entry 2 is not$/);
    expect(refusal).not.toContain(short);
  });
});

describe('dicomweb-worker environment: STORE_IO, validated at boot', () => {
  it('is auto unless set; takes auto, sync and pooled', () => {
    expect(loadDicomwebWorkerEnv({}).STORE_IO).toBe('auto');
    for (const value of ['auto', 'sync', 'pooled'])
      expect(loadDicomwebWorkerEnv({ STORE_IO: value }).STORE_IO).toBe(value);
  });

  it.each([['async'], ['Pooled'], ['threads']])(
    'refuses %j, naming the variable and the values allowed',
    (value) => {
      expect(refusalOf({ STORE_IO: value })).toMatch(
        /STORE_IO: STORE_IO must be one of: auto, sync, pooled$/m,
      );
    },
  );
});
