import { ValidateBy } from 'class-validator';

/** Whether `value` is a key SecretCipher takes: 32 bytes in base64, padding optional. */
export function isSecretsKey(value: string): boolean {
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === 32 && bytes.toString('base64').replace(/=+$/, '') === value.replace(/=+$/, '');
}

/** SECRETS_PREVIOUS_KEYS as a list: comma-separated, spaces around each entry ignored. */
export function splitSecretsKeys(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

const KEY_HINT = '32 random bytes in base64 (openssl rand -base64 32)';

/** SECRETS_KEY: one key. The message never quotes the value. */
export function IsSecretsKey(): PropertyDecorator {
  return ValidateBy({
    name: 'isSecretsKey',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isSecretsKey(value),
      defaultMessage: (args) => `${args?.property ?? 'SECRETS_KEY'} must be ${KEY_HINT}`,
    },
  });
}

/** SECRETS_PREVIOUS_KEYS: comma-separated keys; the message names the bad entry by position only. */
export function IsSecretsKeyList(): PropertyDecorator {
  const badEntry = (value: unknown): number =>
    typeof value === 'string' ? splitSecretsKeys(value).findIndex((key) => !isSecretsKey(key)) : 0;
  return ValidateBy({
    name: 'isSecretsKeyList',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && badEntry(value) === -1,
      defaultMessage: (args) =>
        `${args?.property ?? 'SECRETS_PREVIOUS_KEYS'} must be comma-separated keys, each ${KEY_HINT}: entry ${badEntry(args?.value) + 1} is not`,
    },
  });
}
