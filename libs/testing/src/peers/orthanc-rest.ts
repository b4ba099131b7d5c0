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

/** Deletes a study from Orthanc by its Study Instance UID (a no-op when Orthanc holds none). */
export async function deleteStudyFromOrthanc(
  orthanc: Pick<OrthancPeer, 'httpUrl' | 'user' | 'password'>,
  studyInstanceUid: string,
): Promise<void> {
  // Without Expand, /tools/find answers Orthanc's own ids.
  const ids = (await orthancRest(orthanc, 'POST', '/tools/find', {
    Level: 'Study',
    Query: { StudyInstanceUID: studyInstanceUid },
  })) as string[];
  for (const id of ids) await orthancRest(orthanc, 'DELETE', `/studies/${id}`);
}
