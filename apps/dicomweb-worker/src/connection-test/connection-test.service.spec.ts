import { randomBytes, randomUUID } from 'node:crypto';
import { MockAgent } from 'undici';
import type { DicomwebConnectionTestData } from '@pacslink/contracts';
import { DicomwebClient } from '@pacslink/dicomweb';
import { SecretCipher } from '@pacslink/secrets';
import { ConnectionTestService } from './connection-test.service';

// Only the unsealing, which answers before anything goes on the network; the tests through
// Orthanc are in apps/config-service/test/connection-test.e2e-spec.ts, the replays through the
// broker in apps/dicomweb-worker/test/sealed-credentials.e2e-spec.ts.
describe('dicomweb-worker ConnectionTestService: unsealing the credentials', () => {
  const cipher = new SecretCipher(randomBytes(32));
  // Nothing may reach a network: a MockAgent with no interceptors and net connect off.
  const offline = new MockAgent();
  offline.disableNetConnect();
  const service = new ConnectionTestService(cipher, new DicomwebClient({ dispatcher: offline }));
  const id = randomUUID();
  const url = 'http://127.0.0.1:9/dicom-web';
  const destination = 'http://127.0.0.1:9';

  function request(auth: Partial<DicomwebConnectionTestData['auth']>): DicomwebConnectionTestData {
    return {
      url,
      pacsAeTitle: 'PACS',
      auth: { method: 'basic', username: 'viewer', secretContextId: id, ...auth },
      timeoutMs: 1_000,
    };
  }

  it('refuses a secret sealed for another configuration, without revealing it', async () => {
    const sealed = cipher.encrypt('pa55word', {
      table: 'pacs_config',
      rowId: randomUUID(),
      field: 'password',
      destination,
    });
    const answer = await service.test(request({ sealedSecret: sealed }));
    expect(answer).toMatchObject({ ok: false, message: 'Connection failed' });
    expect(answer.detail).toMatch(
      /^the credentials could not be used: the secret does not belong to pacs_config\.password/,
    );
    expect(answer.detail).not.toContain('pa55word');
  });

  it('refuses a secret sealed for another server, naming both', async () => {
    const sealed = cipher.encrypt('pa55word', {
      table: 'pacs_config',
      rowId: id,
      field: 'password',
      destination: 'https://pacs.example.org:443',
    });
    expect((await service.test(request({ sealedSecret: sealed }))).detail).toBe(
      `the credentials could not be used: the credential was entered for https://pacs.example.org:443; this request goes to ${destination}: enter it again`,
    );
  });

  it('refuses a secret sealed with another key, naming the key ids', async () => {
    const other = new SecretCipher(randomBytes(32));
    const sealed = other.encrypt('pa55word', {
      table: 'pacs_config',
      rowId: id,
      field: 'password',
      destination,
    });
    const answer = await service.test(request({ sealedSecret: sealed }));
    expect(answer.detail).toContain(
      `encrypted with key ${other.keyId}, which is neither SECRETS_KEY (key ${cipher.keyId})`,
    );
  });

  it('says which part of the auth is missing or unusable', async () => {
    expect((await service.test(request({}))).detail).toBe(
      'the credentials could not be used: auth.password is missing',
    );
    const sealed = cipher.encrypt('s', {
      table: 'pacs_config',
      rowId: id,
      field: 'clientSecret',
      destination,
    });
    const oauth = request({ method: 'oauth2-client-credentials', username: undefined, sealedSecret: sealed });
    expect((await service.test(oauth)).detail).toBe(
      'the credentials could not be used: auth.tokenUrl is missing',
    );
    const badUrl = { ...request({ sealedSecret: sealed }), url: 'not a url' };
    expect((await service.test(badUrl)).detail).toBe(
      'the credentials could not be used: url is not an absolute URL',
    );
  });
});
