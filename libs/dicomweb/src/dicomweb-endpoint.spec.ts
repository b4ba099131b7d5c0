import { resolveEndpoint, type DicomwebEndpoint } from './dicomweb-endpoint';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';

const ENDPOINT: DicomwebEndpoint = {
  url: 'https://pacs.example/dicom-web/',
  auth: { method: 'basic', username: 'pacs', password: 'pacs-secret' },
  sourceAeTitle: ' VIEWER ',
  pacsAeTitle: 'ORTHANC',
  timeoutMs: 5_000,
};

function refusal(endpoint: DicomwebEndpoint): string {
  try {
    resolveEndpoint(endpoint);
  } catch (error) {
    expect(error).toBeInstanceOf(DicomwebError);
    expect((error as DicomwebError).code).toBe(DicomwebErrorCode.InvalidConfiguration);
    return (error as DicomwebError).message;
  }
  throw new Error('expected INVALID_CONFIGURATION');
}

describe('resolveEndpoint', () => {
  it('keeps the path without its trailing slash and computes the headers', () => {
    const resolved = resolveEndpoint(ENDPOINT);
    expect(resolved.baseUrl.href).toBe('https://pacs.example/dicom-web');
    expect(resolved.hostPort).toBe('pacs.example:443');
    expect(resolved.headers).toEqual({
      accept: 'application/dicom+json',
      VidarPacsAET: 'ORTHANC',
      VidarSourceAET: 'VIEWER',
    });
  });

  it('leaves VidarSourceAET out when no source AE title is set', () => {
    const resolved = resolveEndpoint({ ...ENDPOINT, sourceAeTitle: undefined });
    expect(resolved.headers).not.toHaveProperty('VidarSourceAET');
  });

  it('lists the secrets to scrub: the password and the Basic credentials', () => {
    const { secrets } = resolveEndpoint(ENDPOINT);
    expect(secrets).toEqual(['pacs-secret', Buffer.from('pacs:pacs-secret').toString('base64')]);
  });

  it('refuses unusable configurations, naming the field and never the secret', () => {
    expect(refusal({ ...ENDPOINT, url: 'ftp://pacs.example/' })).toBe(
      'url must start with http:// or https:// (it starts with ftp://)',
    );
    expect(refusal({ ...ENDPOINT, url: 'pacs.example/dicom-web' })).toBe('url is not an absolute URL');
    const withCredentials = refusal({ ...ENDPOINT, url: 'https://u:hunter22@pacs.example/' });
    expect(withCredentials).toBe('url must not contain credentials; configure them as auth');
    expect(refusal({ ...ENDPOINT, url: 'https://pacs.example/dw?x=1' })).toBe(
      'url must not contain a query string',
    );
    expect(refusal({ ...ENDPOINT, timeoutMs: 0 })).toMatch(/^timeoutMs must be an integer/);
    expect(refusal({ ...ENDPOINT, pacsAeTitle: 'A\\B' })).toBe('pacsAeTitle must not contain a backslash');
    expect(refusal({ ...ENDPOINT, sourceAeTitle: 'X'.repeat(17) })).toMatch(
      /^sourceAeTitle must be at most 16/,
    );
    expect(refusal({ ...ENDPOINT, auth: { method: 'basic', username: 'a:b', password: 'p' } })).toMatch(
      /username must not contain ":"/,
    );
    expect(refusal({ ...ENDPOINT, auth: { method: 'bearer', token: 'a b' } })).toMatch(/auth.token must be/);
    expect(
      refusal({
        ...ENDPOINT,
        auth: { method: 'oauth2-client-credentials', tokenUrl: 'idp', clientId: 'c', clientSecret: 's' },
      }),
    ).toBe('auth.tokenUrl is not an absolute URL');
    expect(
      refusal({ ...ENDPOINT, auth: { method: 'kerberos' } as unknown as DicomwebEndpoint['auth'] }),
    ).toBe('auth.method "kerberos" is not one of none, basic, bearer, oauth2-client-credentials');
  });

  it('gives each set of extra CAs its own key, so pooled TLS connections are not shared', () => {
    const a = resolveEndpoint({ ...ENDPOINT, tls: { ca: 'PEM-A' } });
    const b = resolveEndpoint({ ...ENDPOINT, tls: { ca: ['PEM-B'] } });
    expect(a.tlsKey).not.toBe(b.tlsKey);
    expect(resolveEndpoint(ENDPOINT).tlsKey).toBe('default');
    expect(b.ca).toEqual(['PEM-B']);
  });
});
