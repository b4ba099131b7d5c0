/**
 * The routes that need no caller, matched exactly on the path as it arrived (before any decoding or
 * normalisation, query string aside). Anything else — another spelling, a trailing or duplicate
 * slash, percent-encoding, a dot segment, a route a future controller adds — needs a caller, so
 * that no way of writing a path can reach data without one (Express matches routes
 * case-insensitively and decodes them; this check does neither).
 */
const ALWAYS_PUBLIC = new Set(['/health/live', '/health/ready', '/metrics']);

/** `/api/docs` (the UI and its assets), `/api/docs-json`, `/api/docs-yaml`; one plain segment at most. */
const DOCS = /^\/api\/docs(?:-json|-yaml)?(?:\/(?:[A-Za-z0-9][A-Za-z0-9._-]*)?)?$/;

export interface PublicRouteOptions {
  /** API_DOCS_PUBLIC: the OpenAPI UI and document without a caller. */
  docsPublic: boolean;
}

export function isPublicRoute(method: string, rawUrl: string, options: PublicRouteOptions): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const query = rawUrl.indexOf('?');
  const path = query < 0 ? rawUrl : rawUrl.slice(0, query);
  return ALWAYS_PUBLIC.has(path) || (options.docsPublic && DOCS.test(path));
}
