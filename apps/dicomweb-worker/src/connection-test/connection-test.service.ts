import { Injectable } from '@nestjs/common';
import type { ConnectionTestResult, DicomwebConnectionTestData } from '@pacslink/contracts';
import { DicomwebClient, type DicomwebAuth } from '@pacslink/dicomweb';
import { SecretCipher } from '@pacslink/secrets';
import { unsealAuth } from '../credentials/sealed-auth';

/** The contract's DICOMweb connection test: QIDO-RS `studies?limit=1`, the secret unsealed just before use. */
@Injectable()
export class ConnectionTestService {
  constructor(
    private readonly cipher: SecretCipher,
    private readonly client: DicomwebClient,
  ) {}

  async test(data: DicomwebConnectionTestData): Promise<ConnectionTestResult> {
    const started = Date.now();
    let auth: DicomwebAuth;
    try {
      auth = unsealAuth(this.cipher, data);
    } catch (error) {
      return {
        ok: false,
        message: 'Connection failed',
        detail: `the credentials could not be used: ${error instanceof Error ? error.message : String(error)}`,
        elapsedMs: Date.now() - started,
      };
    }
    // testConnection never throws: every failure is an answer with a detail in plain words.
    return this.client.testConnection({
      url: data.url,
      auth,
      pacsAeTitle: data.pacsAeTitle,
      sourceAeTitle: data.sourceAeTitle,
      timeoutMs: data.timeoutMs,
    });
  }
}
