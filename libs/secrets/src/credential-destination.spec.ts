import { credentialDestination, originOf } from './credential-destination';

describe('credentialDestination: where each credential is sent', () => {
  it.each([
    ['https://PACS.example.org/dicom-web', 'https://pacs.example.org:443'],
    ['https://pacs.example.org:443/other/path?x=1', 'https://pacs.example.org:443'],
    ['http://pacs.example.org/dicom-web', 'http://pacs.example.org:80'],
    ['http://10.0.0.5:8042/dicom-web', 'http://10.0.0.5:8042'],
    ['https://[::1]:8443/dicom-web', 'https://[::1]:8443'],
    ['https://user:pw@pacs.example.org/dicom-web', 'https://pacs.example.org:443'],
  ])('the origin of %s is %s: scheme, host and port; the path does not count', (url, origin) => {
    expect(originOf(url)).toBe(origin);
  });

  it('a password or token goes to the DICOMweb origin', () => {
    const target = { url: 'https://pacs.example.org/dicom-web', tokenUrl: 'https://idp.example.org/token' };
    expect(credentialDestination('password', target)).toBe('https://pacs.example.org:443');
    expect(credentialDestination('token', target)).toBe('https://pacs.example.org:443');
  });

  it('a client secret goes to the token endpoint, and the tokens it buys to the DICOMweb origin', () => {
    expect(
      credentialDestination('clientSecret', {
        url: 'https://pacs.example.org/dicom-web',
        tokenUrl: 'https://idp.example.org:8443/realms/pacs/token',
      }),
    ).toBe('https://pacs.example.org:443 with tokens from https://idp.example.org:8443');
    expect(() => credentialDestination('clientSecret', { url: 'https://pacs.example.org' })).toThrow(
      'auth.tokenUrl is missing',
    );
  });

  it('refuses what is not an absolute http(s) URL, naming the field', () => {
    expect(() => originOf('pacs.example.org/dicom-web')).toThrow('url is not an absolute URL');
    expect(() => originOf('ftp://pacs.example.org')).toThrow('url is not an http:// or https:// URL');
    expect(() =>
      credentialDestination('clientSecret', { url: 'https://pacs.example.org', tokenUrl: 'file:///etc' }),
    ).toThrow('auth.tokenUrl is not an http:// or https:// URL');
  });
});
