import { type DynamicModule, Module } from '@nestjs/common';
import { SecretCipher } from './secret-cipher';
import { resolveSecretsKey } from './secrets-key';
import { splitSecretsKeys } from './secrets-env';

export interface SecretsKeys {
  /** SECRETS_KEY: encrypts, and decrypts what it encrypted; unset in development = the dev key file. */
  key?: string;
  /** SECRETS_PREVIOUS_KEYS: earlier keys, still read (comma-separated). */
  previousKeys?: string;
}

@Module({})
export class SecretsModule {
  static forRoot(keys: SecretsKeys): DynamicModule {
    return {
      module: SecretsModule,
      global: true,
      providers: [
        {
          provide: SecretCipher,
          useFactory: () =>
            SecretCipher.fromBase64(resolveSecretsKey(keys.key), splitSecretsKeys(keys.previousKeys)),
        },
      ],
      exports: [SecretCipher],
    };
  }
}
