import { randomBytes } from 'node:crypto';
import { SecretCipher, SecretDecryptionError } from './secret-cipher';

describe('SecretCipher (AES-256-GCM bound to row and field)', () => {
  const cipher = new SecretCipher(randomBytes(32));
  const here = { table: 'pacs_config', rowId: 'row-1', field: 'password' };

  it('round-trips, with a fresh IV each time and no plaintext in the stored form', () => {
    const a = cipher.encrypt('s3cret-Pässwort', here);
    const b = cipher.encrypt('s3cret-Pässwort', here);
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(a.startsWith(`v1:${cipher.keyId}:`)).toBe(true);
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

  it('refuses a tampered ciphertext and names a foreign key', () => {
    const stored = cipher.encrypt('s3cret', here);
    const parts = stored.split(':');
    parts[4] = Buffer.from('tampered').toString('base64');
    expect(() => cipher.decrypt(parts.join(':'), here)).toThrow(SecretDecryptionError);
    const other = new SecretCipher(randomBytes(32));
    expect(() => other.decrypt(stored, here)).toThrow(`encrypted with key ${cipher.keyId}`);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => SecretCipher.fromBase64(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
