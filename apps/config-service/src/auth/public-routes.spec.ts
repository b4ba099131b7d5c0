import { isPublicRoute } from './public-routes';

const closed = { docsPublic: false };
const open = { docsPublic: true };

describe('isPublicRoute', () => {
  it.each(['/health/live', '/health/ready', '/metrics', '/metrics?x=1', '/health/live?/api/v1/settings'])(
    'lets %s through without a caller',
    (url) => {
      expect(isPublicRoute('GET', url, closed)).toBe(true);
      expect(isPublicRoute('HEAD', url, closed)).toBe(true);
    },
  );

  it.each([
    '/HEALTH/live',
    '/Metrics',
    '/health/live/',
    '//health/live',
    '/health//live',
    '/health/./live',
    '/health/live/..',
    '/health/live/../../api/v1/settings',
    '/health/live%2F..%2F..%2Fapi%2Fv1%2Fsettings',
    '/health/live;/api/v1/settings',
    '/health/%6Cive',
    '/metrics%00',
    '/metrics#',
    '/health/live/../../API/v1/audit',
    'http://host/health/live',
    '*',
    '',
    '/api/v1/settings',
    '/api/docs',
    '/api/docs-json',
  ])('needs a caller for %j', (url) => {
    expect(isPublicRoute('GET', url, closed)).toBe(false);
  });

  it('needs a caller for any method but GET and HEAD, even on a public path', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'get', 'TRACE'])
      expect(isPublicRoute(method, '/metrics', closed)).toBe(false);
  });

  it('opens the API docs only when configured public, and nothing beside them', () => {
    for (const url of [
      '/api/docs',
      '/api/docs/',
      '/api/docs-json',
      '/api/docs-yaml',
      '/api/docs/swagger-ui.css',
    ])
      expect(isPublicRoute('GET', url, open)).toBe(true);
    for (const url of [
      '/api/docs/..',
      '/api/docs/../v1/settings',
      '/api/docs/%2e%2e/v1/settings',
      '/api/docs/a/b',
      '/API/docs',
      '/api/docs-jsonx',
      '/api/v1/docs',
      '/api/docs//',
    ])
      expect(isPublicRoute('GET', url, open)).toBe(false);
  });
});
