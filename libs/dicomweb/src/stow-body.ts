import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { storeIo } from '@pacslink/store';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';

/** One file as it goes on the wire: its size was taken by stat() just before the request. */
export interface StowFile {
  path: string;
  sopInstanceUid: string;
  bytes: number;
}

/** Read size per file chunk; undici writes each and waits for the socket to drain. */
const READ_CHUNK_BYTES = 256 * 1024;
const CRLF = '\r\n';

/** RFC 2046 5.1.1: up to 70 characters, none that need quoting. */
export function newBoundary(): string {
  return `pacslink-${randomBytes(16).toString('hex')}`;
}

/** PS3.18 10.5.1.2: the `type` parameter says what every part is. */
export function multipartContentType(boundary: string): string {
  return `multipart/related; type="application/dicom"; boundary=${boundary}`;
}

function partHeader(boundary: string): string {
  return `--${boundary}${CRLF}Content-Type: application/dicom${CRLF}${CRLF}`;
}

function closeDelimiter(boundary: string): string {
  return `--${boundary}--${CRLF}`;
}

/** The exact length of {@link multipartBody}: servers may refuse a chunked upload, none refuse this. */
export function multipartLength(files: readonly StowFile[], boundary: string): number {
  const perPart = Buffer.byteLength(partHeader(boundary)) + CRLF.length;
  const content = files.reduce((sum, file) => sum + perPart + file.bytes, 0);
  return content + Buffer.byteLength(closeDelimiter(boundary));
}

function unreadable(file: StowFile, error: unknown): DicomwebError {
  const code = (error as { code?: unknown }).code;
  return new DicomwebError(
    DicomwebErrorCode.InvalidRequest,
    `cannot read the file of SOP instance ${file.sopInstanceUid} (${typeof code === 'string' ? code : 'read error'})`,
    { cause: error },
  );
}

/** The request announced the file's size: a file that changed meanwhile would corrupt the body. */
function changedSize(file: StowFile): DicomwebError {
  return new DicomwebError(
    DicomwebErrorCode.InvalidRequest,
    `the file of SOP instance ${file.sopInstanceUid} changed size while it was being sent`,
  );
}

async function* fileChunks(file: StowFile): AsyncGenerator<Buffer> {
  let sent = 0;
  try {
    for await (const chunk of createReadStream(file.path, { highWaterMark: READ_CHUNK_BYTES })) {
      const buffer = chunk as Buffer;
      sent += buffer.length;
      if (sent > file.bytes) break;
      yield buffer;
    }
  } catch (error) {
    throw unreadable(file, error);
  }
  if (sent !== file.bytes) throw changedSize(file);
}

/**
 * A file no bigger than one read chunk in one read through the store's file I/O: synchronous on a
 * local disk, from the page cache that costs microseconds, while a stream costs four thread-pool
 * round trips (open, read, read, close) — most of the time of a 10 KB instance
 * (docs/performance/c-store.md measured the same for C-STORE); in the pool on network storage.
 */
async function smallFile(file: StowFile): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await storeIo().readFile(file.path);
  } catch (error) {
    throw unreadable(file, error);
  }
  if (data.length !== file.bytes) throw changedSize(file);
  return data;
}

async function* multipartChunks(files: readonly StowFile[], boundary: string): AsyncGenerator<Buffer> {
  const header = Buffer.from(partHeader(boundary));
  const crlf = Buffer.from(CRLF);
  for (const file of files) {
    if (file.bytes <= READ_CHUNK_BYTES) {
      // One write per small part instead of three.
      yield Buffer.concat([header, await smallFile(file), crlf]);
      continue;
    }
    yield header;
    yield* fileChunks(file);
    yield crlf;
  }
  yield Buffer.from(closeDelimiter(boundary));
}

function streamOf(chunks: AsyncGenerator<Buffer>): Readable {
  // A Readable rather than the bare generator: undici destroys it when the request ends early,
  // which returns the generator and so closes the file being read.
  return Readable.from(chunks, { objectMode: false, highWaterMark: READ_CHUNK_BYTES });
}

/** PS3.18 10.5.1.2 multipart/related body, read from the files as the socket takes it. */
export function multipartBody(files: readonly StowFile[], boundary: string): Readable {
  return streamOf(multipartChunks(files, boundary));
}

/** One instance as a single `application/dicom` body. */
export function singleBody(file: StowFile): Readable {
  return streamOf(fileChunks(file));
}
