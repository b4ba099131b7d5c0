import { randomBytes } from 'node:crypto';
import { SecretCipher } from '@pacslink/secrets';
import { PacsConfig } from './pacs-config.entity';
import { nextSecret, sealedForWorker, secretContextOf } from './pacs-config-secrets';
import { PacsConfigError } from './pacs-configs.errors';

const row = (columns: Partial<PacsConfig>): PacsConfig =>
  Object.assign(new PacsConfig(), {
    id: '4f6b1a2e-0c1d-4e5f-8a9b-0c1d2e3f4a5b',
    url: 'https://pacs.example.org/dicom-web',
    authMethod: 'basic',
    authUsername: 'viewer',
    authTokenUrl: null,
    authClientId: null,
    authSecret: null,
    ...columns,
  });

function contextOf(config: PacsConfig) {
  const context = secretContextOf(config);
  if (context === undefined) throw new Error('this row has no secret');
  return context;
}

/** The PacsConfigError that `work` throws. */
function refusalOf(work: () => unknown): PacsConfigError {
  try {
    work();
  } catch (error) {
    if (error instanceof PacsConfigError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

describe('PACS configuration secrets: what they are bound to, and when a PATCH may keep one', () => {
  const cipher = new SecretCipher(randomBytes(32));

  it('binds a password to the DICOMweb origin, a client secret to the token endpoint too, and nothing for none', () => {
    expect(secretContextOf(row({}))).toEqual({
      table: 'pacs_config',
      rowId: '4f6b1a2e-0c1d-4e5f-8a9b-0c1d2e3f4a5b',
      field: 'password',
      destination: 'https://pacs.example.org:443',
    });
    const oauth = row({
      authMethod: 'oauth2-client-credentials',
      authTokenUrl: 'https://idp.example.org/token',
      authClientId: 'pacslink',
    });
    expect(secretContextOf(oauth)?.destination).toBe(
      'https://pacs.example.org:443 with tokens from https://idp.example.org:443',
    );
    expect(secretContextOf(row({ authMethod: 'none' }))).toBeUndefined();
    expect(secretContextOf(row({ type: 'dimse', url: null, authMethod: null }))).toBeUndefined();
  });

  it('keeps a stored password for the same user and origin, re-encrypted under the current key', () => {
    const keyA = randomBytes(32);
    const current = row({});
    current.authSecret = new SecretCipher(keyA).encrypt('pw', contextOf(current));
    const rotated = new SecretCipher(randomBytes(32), [keyA]);
    const next = row({ url: 'https://pacs.example.org/other-path' });
    const kept = nextSecret(rotated, next, undefined, current);
    expect(kept?.split(':')[1]).toBe(rotated.keyId);
    expect(rotated.decrypt(kept ?? '', contextOf(next))).toBe('pw');
  });

  it.each([
    [
      'another host',
      { url: 'https://evil.example.org/dicom-web' },
      'auth.password is required again because url changes where the password is sent (https://pacs.example.org:443 → https://evil.example.org:443)',
    ],
    [
      'another user',
      { authUsername: 'someone' },
      'auth.password is required again because username changes whose password it is',
    ],
  ])('refuses to keep a stored password for %s, naming auth.password', (_, change, message) => {
    const current = row({});
    current.authSecret = cipher.encrypt('pw', contextOf(current));
    const refusal = refusalOf(() => nextSecret(cipher, row(change), undefined, current));
    expect([refusal.code, refusal.field, refusal.message]).toEqual([
      'secret-required',
      'auth.password',
      message,
    ]);
  });

  it('answers a stored secret no key here can read as required again, naming the key', () => {
    const current = row({});
    current.authSecret = new SecretCipher(randomBytes(32)).encrypt('pw', contextOf(current));
    expect(() => nextSecret(cipher, row({}), undefined, current)).toThrow(
      /^auth\.password is required again because the stored password cannot be read: the secret was encrypted with key [0-9a-f]{8}/,
    );
    // On its way to a worker it goes as it is, and the worker's refusal names the key.
    expect(sealedForWorker(cipher, current)).toBe(current.authSecret);
  });
});
