/** What a route template label says of a request no route matched (404s, probes of random paths). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The route template that handled a request (`/api/v1/transfers/:id`), as Express sets it once a
 * route matched (Nest registers each route with its global prefix). Never the URL itself: a URL
 * holds ids and Study UIDs, which make a label's values unbounded and a log line identifying.
 * Known once the router ran: at the response, not when the request arrives.
 */
export function routeTemplateOf(req: object): string {
  const route: unknown = Reflect.get(req, 'route');
  const path: unknown = typeof route === 'object' && route !== null ? Reflect.get(route, 'path') : undefined;
  return typeof path === 'string' ? path : UNMATCHED_ROUTE;
}
