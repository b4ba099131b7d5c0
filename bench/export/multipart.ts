import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A STOW-RS body (PS3.18 10.5): one `application/dicom` part per Part 10 file. */
export interface MultipartBody {
  contentType: string;
  /** The body as a stream, read from the files part by part (never whole in memory). */
  stream(): Readable;
}

export function multipartRelated(files: readonly string[]): MultipartBody {
  // Random, so no file's bytes can contain the delimiter by accident (RFC 2046 5.1.1).
  const boundary = `pacslink-bench-${randomBytes(16).toString('hex')}`;
  async function* parts(): AsyncGenerator<Buffer> {
    for (const file of files) {
      yield Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
      for await (const chunk of createReadStream(file)) yield chunk as Buffer;
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  return {
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    stream: () => Readable.from(parts(), { objectMode: false }),
  };
}

export async function writeBodyFile(body: MultipartBody, path: string): Promise<void> {
  await pipeline(body.stream(), createWriteStream(path));
}
