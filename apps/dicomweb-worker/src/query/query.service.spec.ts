import { randomBytes, randomUUID } from 'node:crypto';
import { MockAgent } from 'undici';
import type { DicomwebQueryData } from '@pacslink/contracts';
import { DicomwebClient } from '@pacslink/dicomweb';
import { SecretCipher } from '@pacslink/secrets';
import { QueryService, trimPersonNames } from './query.service';

// No I/O: the answers through Orthanc are in apps/config-service/test/query.e2e-spec.ts.
describe('dicomweb-worker QueryService', () => {
  const cipher = new SecretCipher(randomBytes(32));
  // Nothing may reach a network: a MockAgent with no interceptors and net connect off.
  const offline = new MockAgent();
  offline.disableNetConnect();
  const service = new QueryService(cipher, new DicomwebClient({ dispatcher: offline }));

  it('refuses unusable credentials before anything goes on the network', async () => {
    const data: DicomwebQueryData = {
      url: 'http://127.0.0.1:9/dicom-web',
      pacsAeTitle: 'PACS',
      auth: { method: 'basic', username: 'viewer', secretContextId: randomUUID() },
      timeoutMs: 1_000,
      level: 'studies',
      filters: {},
      includefield: [],
      limit: 10,
      offset: 0,
    };
    await expect(service.query(data)).rejects.toThrow(
      'the credentials could not be used: auth.password is missing',
    );
  });

  it('trims PN values, inside sequences too, and leaves other values alone', () => {
    const dataset = trimPersonNames({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller^Jürgen ' }] },
      '00100020': { vr: 'LO', Value: ['ID '] },
      '00081032': {
        vr: 'SQ',
        Value: [{ '00080090': { vr: 'PN', Value: [{ Alphabetic: 'DOE ', Ideographic: '山田 ' }] } }],
      },
    });
    expect(dataset).toEqual({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller^Jürgen' }] },
      '00100020': { vr: 'LO', Value: ['ID '] },
      '00081032': {
        vr: 'SQ',
        Value: [{ '00080090': { vr: 'PN', Value: [{ Alphabetic: 'DOE', Ideographic: '山田' }] } }],
      },
    });
  });
});
