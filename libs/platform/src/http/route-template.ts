/** What a route template label says of a request no route matched (404s, probes of random paths). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The path Nest mounts middleware for every route under (nestjs-pino's logger): Nest 11's router
 * (path-to-regexp 8) wants a named wildcard. Express records that mount as the request's route
 * too, so a request no handler matched ends with this template.
 */
export const EVERY_PATH = '{*path}';

/**
 * The route template that handled a request (`/api/v1/transfers/:id`), as Express sets it once a
 * route matched (Nest registers each route with its global prefix). Never the URL itself: a URL
 * holds ids and Study UIDs, which make a label's values unbounded and a log line identifying.
 * Known once the router ran: at the response, not when the request arrives.
 */
export function routeTemplateOf(req: object): string {
  const route: unknown = Reflect.get(req, 'route');
  const path: unknown = typeof route === 'object' && route !== null ? Reflect.get(route, 'path') : undefined;
  if (typeof path !== 'string' || path === EVERY_PATH || path.endsWith(`/${EVERY_PATH}`))
    return UNMATCHED_ROUTE;
  return path;
}
