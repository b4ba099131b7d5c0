import type { LookupAddress } from 'node:dns';
import { Socket } from 'node:net';
import { EgressGuard, EgressPolicy, parseCidrList } from '@pacslink/egress';
import { DicomwebClient } from './dicomweb-client';
import type { DicomwebEndpoint } from './dicomweb-endpoint';
import { DicomwebErrorCode } from './dicomweb.errors';

// Link-local and metadata addresses are refused before any socket exists: Socket#connect is
// replaced by a tripwire, so no packet can leave even if the check were missing.

const NAMES: Record<string, LookupAddress[]> = {
  'metadata.test': [{ address: '169.254.169.254', family: 4 }],
  'link.test': [{ address: 'fe80::1', family: 6 }],
};

const egress = new EgressGuard(new EgressPolicy(parseCidrList('0.0.0.0/0,::/0'), []), {
  resolver: (hostname) => Promise.resolve(NAMES[hostname] ?? []),
  localAddresses: () => [],
});
const client = new DicomwebClient({ egress });
let connects: jest.SpyInstance;

beforeEach(() => {
  connects = jest.spyOn(Socket.prototype, 'connect').mockImplementation(() => {
    throw new Error('tripwire: a socket was connected');
  });
});

afterEach(() => connects.mockRestore());
afterAll(() => client.close());

function endpoint(url: string, auth: DicomwebEndpoint['auth'] = { method: 'none' }): DicomwebEndpoint {
  return { url, auth, pacsAeTitle: 'PACS', timeoutMs: 2_000 };
}

const NEVER =
  'is a link-local or cloud metadata address: link-local and metadata addresses are never allowed';

describe('egress: link-local and metadata addresses are refused before any connect', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data', '169.254.169.254:80 (169.254.169.254)'],
    ['http://[::ffff:169.254.169.254]/dicom-web', '[::ffff:a9fe:a9fe]:80 (::ffff:a9fe:a9fe)'],
    ['https://[fd00:ec2::254]/dicom-web', '[fd00:ec2::254]:443 (fd00:ec2::254)'],
    ['http://100.100.100.200/dicom-web', '100.100.100.200:80 (100.100.100.200)'],
    ['http://metadata.test/computeMetadata/v1', 'metadata.test:80 (169.254.169.254)'],
    ['http://link.test:8042/dicom-web', 'link.test:8042 (fe80::1)'],
  ])('%s', async (url, destination) => {
    await expect(client.testConnection(endpoint(url))).resolves.toEqual({
      ok: false,
      message: 'Connection failed',
      detail: `${destination} ${NEVER}`,
      elapsedMs: expect.any(Number) as number,
      code: DicomwebErrorCode.EgressRefused,
    });
    expect(connects).not.toHaveBeenCalled();
  });

  it('as the OAuth2 token endpoint, named as such; the PACS is not asked either', async () => {
    const result = await client.testConnection(
      endpoint('http://10.0.0.5/dicom-web', {
        method: 'oauth2-client-credentials',
        tokenUrl: 'http://metadata.test/token',
        clientId: 'pacslink',
        clientSecret: 'client-secret-1',
      }),
    );
    expect(result.detail).toBe(
      `token endpoint http://metadata.test/token: metadata.test:80 (169.254.169.254) ${NEVER}`,
    );
    expect(connects).not.toHaveBeenCalled();
  });

  it('a query is refused with EGRESS_REFUSED, which no retry can cure', async () => {
    const query = client.qido(endpoint('http://metadata.test/dicom-web'), { level: 'studies' });
    await expect(query).rejects.toMatchObject({
      code: DicomwebErrorCode.EgressRefused,
      disposition: { area: 'egress', retryable: false },
      message: `metadata.test:80 (169.254.169.254) ${NEVER}`,
    });
    expect(connects).not.toHaveBeenCalled();
  });
});
