import { type DynamicModule, Module } from '@nestjs/common';
import { SecretCipher } from './secret-cipher';
import { resolveSecretsKey } from './secrets-key';

@Module({})
export class SecretsModule {
  static forRoot(configuredKey: string | undefined): DynamicModule {
    return {
      module: SecretsModule,
      global: true,
      providers: [
        {
          provide: SecretCipher,
          useFactory: () => SecretCipher.fromBase64(resolveSecretsKey(configuredKey)),
        },
      ],
      exports: [SecretCipher],
    };
  }
}
