import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { SecretCipher, SecretDecryptionError, type SecretContext } from './secret-cipher';

/** A v1 value as the previous version wrote it, encoded here independently of the code under test. */
function legacyV1(
  key: Buffer,
  plaintext: string,
  { table, rowId, field }: Omit<SecretContext, 'destination'>,
) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${table}\u0000${rowId}\u0000${field}`, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return [
    'v1',
    keyId,
    iv.toString('base64'),
    cipher.getAuthTag().toString('base64'),
    ciphertext.toString('base64'),
  ].join(':');
}

/** The stored form's parts: v2, key id, destination, iv, tag, ciphertext. */
const partsOf = (stored: string) => stored.split(':');
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('SecretCipher (AES-256-GCM bound to row, field and destination)', () => {
  const key = randomBytes(32);
  const cipher = new SecretCipher(key);
  const here: SecretContext = {
    table: 'pacs_config',
    rowId: 'row-1',
    field: 'password',
    destination: 'https://pacs.example.org:443',
  };

  it('round-trips, with a fresh IV each time and no plaintext in the stored form', () => {
    const a = cipher.encrypt('s3cret-Pässwort', here);
    const b = cipher.encrypt('s3cret-Pässwort', here);
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(a.startsWith(`v2:${cipher.keyId}:${b64(here.destination)}:`)).toBe(true);
    expect(cipher.decrypt(a, here)).toBe('s3cret-Pässwort');
  });

  it.each([
    ['another row', { ...here, rowId: 'row-2' }],
    ['another field', { ...here, field: 'token' }],
    ['another table', { ...here, table: 'other' }],
  ])('refuses a ciphertext moved to %s', (_, elsewhere) => {
    const stored = cipher.encrypt('s3cret', here);
    expect(() => cipher.decrypt(stored, elsewhere)).toThrow(SecretDecryptionError);
  });

  it('refuses a ciphertext sent to another destination, naming both', () => {
    const stored = cipher.encrypt('s3cret', here);
    expect(() => cipher.decrypt(stored, { ...here, destination: 'https://evil.example.org:443' })).toThrow(
      new SecretDecryptionError(
        'the credential was entered for https://pacs.example.org:443; this request goes to https://evil.example.org:443: enter it again',
      ),
    );
  });

  it('refuses a ciphertext whose destination was rewritten to match the request: the destination is authenticated', () => {
    const elsewhere = { ...here, destination: 'https://evil.example.org:443' };
    const parts = partsOf(cipher.encrypt('s3cret', here));
    parts[2] = b64(elsewhere.destination);
    expect(() => cipher.decrypt(parts.join(':'), elsewhere)).toThrow(
      new SecretDecryptionError(
        'the secret does not belong to pacs_config.password of row-1 for https://evil.example.org:443',
      ),
    );
  });

  it('refuses a tampered ciphertext and names a foreign key', () => {
    const stored = cipher.encrypt('s3cret', here);
    const parts = partsOf(stored);
    parts[5] = b64('tampered');
    expect(() => cipher.decrypt(parts.join(':'), here)).toThrow(SecretDecryptionError);
    const other = new SecretCipher(randomBytes(32));
    expect(() => other.decrypt(stored, here)).toThrow(
      `encrypted with key ${cipher.keyId}, which is neither SECRETS_KEY (key ${other.keyId}) nor in SECRETS_PREVIOUS_KEYS (unset)`,
    );
  });

  it.each([4, 8, 12, 15])('refuses a tag truncated to %i bytes (the full 16 are pinned)', (bytes) => {
    const parts = partsOf(cipher.encrypt('s3cret', here));
    parts[4] = Buffer.from(parts[4], 'base64').subarray(0, bytes).toString('base64');
    expect(() => cipher.decrypt(parts.join(':'), here)).toThrow(
      new SecretDecryptionError(`the secret's IV and tag are 12 and ${bytes} bytes, not 12 and 16: refused`),
    );
  });

  it('refuses the v1 format: it bound no destination', () => {
    const v1 = legacyV1(key, 's3cret', here);
    expect(() => cipher.decrypt(v1, here)).toThrow(/format v1, which is not bound to where it may be sent/);
  });

  describe('key rotation: SECRETS_KEY and SECRETS_PREVIOUS_KEYS', () => {
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    const underA = new SecretCipher(keyA);
    const rotated = new SecretCipher(keyB, [keyA]);

    it('reads what a previous key encrypted, and encrypts under the current key only', () => {
      const old = underA.encrypt('s3cret', here);
      expect(rotated.decrypt(old, here)).toBe('s3cret');
      expect(rotated.keyIds).toEqual([rotated.keyId, underA.keyId]);
      expect(partsOf(rotated.encrypt('s3cret', here))[1]).toBe(rotated.keyId);
      expect(() => new SecretCipher(keyB).decrypt(old, here)).toThrow(
        `neither SECRETS_KEY (key ${rotated.keyId}) nor in SECRETS_PREVIOUS_KEYS (unset)`,
      );
      expect(() => new SecretCipher(keyB, [randomBytes(32)]).decrypt(old, here)).toThrow(
        /nor in SECRETS_PREVIOUS_KEYS \(keys [0-9a-f]{8}\)/,
      );
    });

    it("re-encrypts an old key's value under the current key, and leaves a current one as it is", () => {
      const old = underA.encrypt('s3cret', here);
      const renewed = rotated.reencrypt(old, here);
      expect(partsOf(renewed)[1]).toBe(rotated.keyId);
      expect(new SecretCipher(keyB).decrypt(renewed, here)).toBe('s3cret');
      expect(rotated.isCurrent(old, here)).toBe(false);
      expect(rotated.isCurrent(renewed, here)).toBe(true);
      expect(rotated.reencrypt(renewed, here)).toBe(renewed);
    });

    it('turns a v1 value into v2 bound to its destination, under the current key', () => {
      const v1 = legacyV1(keyA, 's3cret', here);
      const v2 = rotated.reencrypt(v1, here);
      expect(v2.startsWith(`v2:${rotated.keyId}:`)).toBe(true);
      expect(new SecretCipher(keyB).decrypt(v2, here)).toBe('s3cret');
      expect(() => rotated.reencrypt(v1, { ...here, rowId: 'row-2' })).toThrow(
        'the secret does not belong to pacs_config.password of row-2',
      );
    });

    it('refuses keys that are not 32 bytes, naming the variable and never the key', () => {
      expect(() => SecretCipher.fromBase64(Buffer.alloc(16).toString('base64'))).toThrow(
        'SECRETS_KEY must be 32 bytes (base64), got 16',
      );
      expect(() => new SecretCipher(keyB, [keyA, Buffer.alloc(8)])).toThrow(
        'SECRETS_PREVIOUS_KEYS entry 2 must be 32 bytes (base64), got 8',
      );
    });
  });
});
