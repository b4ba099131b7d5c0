import { EVERY_PATH, UNMATCHED_ROUTE, routeTemplateOf } from './route-template';

describe('routeTemplateOf', () => {
  it('is the template of the route that matched, never the URL', () => {
    expect(routeTemplateOf({ url: '/api/v1/transfers/5d1b', route: { path: '/api/v1/transfers/:id' } })).toBe(
      '/api/v1/transfers/:id',
    );
  });

  it('is "unmatched" when no route matched (a 404, or before routing)', () => {
    expect(routeTemplateOf({ url: '/api/v1/no-such-thing' })).toBe(UNMATCHED_ROUTE);
    expect(routeTemplateOf({ route: { path: /regexp/ } })).toBe(UNMATCHED_ROUTE);
  });

  it('is "unmatched" when only the every-path middleware mount matched (seen as /api/v1/{*path})', () => {
    expect(routeTemplateOf({ route: { path: `/api/v1/${EVERY_PATH}` } })).toBe(UNMATCHED_ROUTE);
    expect(routeTemplateOf({ route: { path: EVERY_PATH } })).toBe(UNMATCHED_ROUTE);
  });
});
