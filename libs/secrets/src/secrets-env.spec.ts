import { randomBytes } from 'node:crypto';
import { plainToInstance } from 'class-transformer';
import { IsOptional, validateSync } from 'class-validator';
import { IsSecretsKey, IsSecretsKeyList, isSecretsKey, splitSecretsKeys } from './secrets-env';

class Env {
  @IsOptional() @IsSecretsKey() SECRETS_KEY?: string;
  @IsOptional() @IsSecretsKeyList() SECRETS_PREVIOUS_KEYS?: string;
}

const problems = (values: Record<string, string>) =>
  validateSync(plainToInstance(Env, values)).flatMap((error) => Object.values(error.constraints ?? {}));

describe('SECRETS_KEY and SECRETS_PREVIOUS_KEYS, validated at boot', () => {
  const key = () => randomBytes(32).toString('base64');

  it('takes 32 bytes in base64, with or without padding', () => {
    const value = key();
    expect(isSecretsKey(value)).toBe(true);
    expect(isSecretsKey(value.replace(/=+$/, ''))).toBe(true);
    expect(isSecretsKey(randomBytes(16).toString('base64'))).toBe(false);
    expect(isSecretsKey(randomBytes(32).toString('hex'))).toBe(false);
    expect(isSecretsKey(randomBytes(32).toString('base64url').replace(/^./, '-'))).toBe(false);
  });

  it('splits the previous keys on commas, ignoring spaces and empty entries', () => {
    const [a, b] = [key(), key()];
    expect(splitSecretsKeys(` ${a}, ${b},`)).toEqual([a, b]);
    expect(splitSecretsKeys(undefined)).toEqual([]);
  });

  it('names the variable and the bad entry, never the value', () => {
    const short = randomBytes(16).toString('base64');
    expect(problems({ SECRETS_KEY: key(), SECRETS_PREVIOUS_KEYS: `${key()},${key()}` })).toEqual([]);
    const found = problems({ SECRETS_KEY: short, SECRETS_PREVIOUS_KEYS: `${key()}, ${short}` });
    expect(found).toEqual([
      'SECRETS_KEY must be 32 random bytes in base64 (openssl rand -base64 32)',
      'SECRETS_PREVIOUS_KEYS must be comma-separated keys, each 32 random bytes in base64 (openssl rand -base64 32): entry 2 is not',
    ]);
    expect(found.join('\n')).not.toContain(short);
  });
});
