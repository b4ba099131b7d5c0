import { Injectable } from '@nestjs/common';
import {
  SecretFieldOfAuthMethod,
  type ConnectionTestResult,
  type DicomwebConnectionTestData,
} from '@pacslink/contracts';
import { testConnection, type DicomwebAuth } from '@pacslink/dicomweb';
import { SecretCipher } from '@pacslink/secrets';

/** Where config-service binds the sealed secrets it sends (the pacs_config row, or a fresh id). */
const SECRET_TABLE = 'pacs_config';

/** Why a request's auth cannot be used; thrown before anything goes on the network. */
class UnusableAuthError extends Error {}

/** The contract's DICOMweb connection test: QIDO-RS `studies?limit=1`, the secret unsealed just before use. */
@Injectable()
export class ConnectionTestService {
  constructor(private readonly cipher: SecretCipher) {}

  async test(data: DicomwebConnectionTestData): Promise<ConnectionTestResult> {
    const started = Date.now();
    let auth: DicomwebAuth;
    try {
      auth = this.unseal(data.auth);
    } catch (error) {
      return {
        ok: false,
        message: 'Connection failed',
        detail: `the credentials could not be used: ${error instanceof Error ? error.message : String(error)}`,
        elapsedMs: Date.now() - started,
      };
    }
    // testConnection never throws: every failure is an answer with a detail in plain words.
    return testConnection({
      url: data.url,
      auth,
      pacsAeTitle: data.pacsAeTitle,
      sourceAeTitle: data.sourceAeTitle,
      timeoutMs: data.timeoutMs,
    });
  }

  private unseal(auth: DicomwebConnectionTestData['auth']): DicomwebAuth {
    const field = SecretFieldOfAuthMethod[auth.method];
    const secret = (): string => {
      if (field === undefined) return '';
      if (!auth.sealedSecret) throw new UnusableAuthError(`auth.${field} is missing`);
      // SecretDecryptionError messages name the key id and context, never the secret.
      return this.cipher.decrypt(auth.sealedSecret, {
        table: SECRET_TABLE,
        rowId: auth.secretContextId,
        field,
      });
    };
    const required = (name: 'username' | 'tokenUrl' | 'clientId'): string => {
      const value = auth[name];
      if (value === undefined) throw new UnusableAuthError(`auth.${name} is missing`);
      return value;
    };
    switch (auth.method) {
      case 'none':
        return { method: 'none' };
      case 'basic':
        return { method: 'basic', username: required('username'), password: secret() };
      case 'bearer':
        return { method: 'bearer', token: secret() };
      case 'oauth2-client-credentials':
        return {
          method: 'oauth2-client-credentials',
          tokenUrl: required('tokenUrl'),
          clientId: required('clientId'),
          clientSecret: secret(),
          ...(auth.scope !== undefined ? { scope: auth.scope } : {}),
        };
    }
  }
}
