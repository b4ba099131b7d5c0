import type { OrthancPeer } from './peers';

/**
 * One call to Orthanc's REST API with HTTP Basic auth; resolves to the parsed JSON body (or
 * undefined for an empty one) and rejects on any non-2xx status.
 */
export async function orthancRest(
  orthanc: Pick<OrthancPeer, 'httpUrl' | 'user' | 'password'>,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(new URL(path, orthanc.httpUrl), {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${orthanc.user}:${orthanc.password}`).toString('base64')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Orthanc ${method} ${path}: HTTP ${response.status} ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}
