import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** A `multipart/related; type="application/dicom"` body of these Part 10 files (small test studies only). */
export function multipartRelated(files: readonly Buffer[], boundary: string): Buffer {
  const parts = files.flatMap((file) => [
    Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
    file,
    Buffer.from('\r\n'),
  ]);
  return Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
}

/** POSTs the files to config-service's study store (`POST /api/v1/studies`) in one multipart request. */
export async function uploadToStudyStore(
  baseUrl: string,
  apiKey: string | undefined,
  files: readonly string[],
): Promise<Response> {
  const boundary = `pacslink-${randomBytes(8).toString('hex')}`;
  return fetch(`${baseUrl}/api/v1/studies`, {
    method: 'POST',
    headers: {
      ...(apiKey !== undefined ? { authorization: `Bearer ${apiKey}` } : {}),
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
    },
    body: multipartRelated(await Promise.all(files.map((file) => readFile(file))), boundary),
  });
}
