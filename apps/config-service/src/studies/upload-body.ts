import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import Dicer from 'dicer';
import { InvalidDicomError } from '@pacslink/store';
import { StudyError, StudyErrorCode } from './studies.errors';

export const DICOM_MEDIA_TYPE = 'application/dicom';
const MULTIPART_RELATED = 'multipart/related';
const ACCEPTED = `accepted: ${MULTIPART_RELATED}; type="${DICOM_MEDIA_TYPE}" (PS3.18 10.5) or a single ${DICOM_MEDIA_TYPE} body`;

/** How an upload's body is framed. */
export type UploadFraming = { kind: 'single' } | { kind: 'multipart'; boundary: string };

/** One part of an upload, numbered from 1, its bytes streaming. */
export interface UploadPart {
  number: number;
  contentType: string | undefined;
  body: Readable;
}

/** The client went away before the body was complete: there is nobody left to answer. */
export class UploadAbortedError extends Error {
  override readonly name = 'UploadAbortedError';
}

/** RFC 9110 8.3.1: type "/" subtype *( ";" parameter ), parameter values tokens or quoted strings. */
const PARAMETER = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g;

function parseMediaType(header: string): { type: string; parameters: Map<string, string> } {
  const semicolon = header.indexOf(';');
  const type = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  const parameters = new Map<string, string>();
  for (const [, name, raw] of header.slice(type.length).matchAll(PARAMETER)) {
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    parameters.set(name.toLowerCase(), value);
  }
  return { type, parameters };
}

/** Which framing a Content-Type announces; anything but the two STOW-RS bodies is refused (415). */
export function uploadFraming(contentType: string | undefined): UploadFraming {
  if (contentType === undefined || contentType.trim() === '') {
    throw new StudyError(StudyErrorCode.UnsupportedMediaType, `the request has no Content-Type; ${ACCEPTED}`);
  }
  const { type, parameters } = parseMediaType(contentType);
  if (type === DICOM_MEDIA_TYPE) return { kind: 'single' };
  if (type !== MULTIPART_RELATED) {
    throw new StudyError(
      StudyErrorCode.UnsupportedMediaType,
      `Content-Type "${type}" is not accepted; ${ACCEPTED}`,
    );
  }
  const partType = parameters.get('type');
  if (partType?.toLowerCase() !== DICOM_MEDIA_TYPE) {
    throw new StudyError(
      StudyErrorCode.UnsupportedMediaType,
      partType === undefined
        ? `${MULTIPART_RELATED} without a type parameter is not accepted; ${ACCEPTED}`
        : `${MULTIPART_RELATED} of type "${partType}" is not accepted; ${ACCEPTED}`,
    );
  }
  const boundary = parameters.get('boundary');
  if (boundary === undefined || boundary === '') {
    throw new StudyError(
      StudyErrorCode.MalformedContentType,
      `${MULTIPART_RELATED} needs a boundary parameter`,
    );
  }
  return { kind: 'multipart', boundary };
}

export function isDicomPart(contentType: string | undefined): boolean {
  return contentType !== undefined && parseMediaType(contentType).type === DICOM_MEDIA_TYPE;
}

/**
 * Hands a single-part body to `handle` as part 1. The handler reads a stream of its own: when it
 * stops early (a refused file) the rest of the body is drained, never the connection destroyed, so
 * the answer can still be sent.
 */
export async function singlePart(
  request: IncomingMessage,
  handle: (part: UploadPart) => Promise<void>,
): Promise<void> {
  const body = new PassThrough();
  const abort = () => {
    if (!request.complete) {
      body.destroy(new UploadAbortedError('the client closed the connection before the body was complete'));
    }
  };
  request.on('close', abort);
  request.on('error', abort);
  request.pipe(body);
  try {
    await handle({ number: 1, contentType: request.headers['content-type'], body });
  } finally {
    request.off('close', abort);
    request.off('error', abort);
    request.unpipe(body);
    request.resume();
  }
}

/**
 * Hands each part of a multipart body to `handle`, one at a time and in order, as it streams in;
 * resolves to the number of parts. A part whose body ends before its closing boundary errors its
 * stream with an InvalidDicomError; a client that goes away rejects with UploadAbortedError.
 * Whatever `handle` leaves unread of a part is drained, so the next part can come.
 */
export function forEachPart(
  request: IncomingMessage,
  boundary: string,
  handle: (part: UploadPart) => Promise<void>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const parser = new Dicer({ boundary });
    let parts = 0;
    let chain = Promise.resolve();
    let current: PassThrough | undefined;
    let settled = false;

    const fail = (reason: unknown) => {
      if (settled) return;
      settled = true;
      const error = reason instanceof Error ? reason : new Error(String(reason));
      request.unpipe(parser);
      request.resume();
      current?.destroy(error);
      reject(error);
    };

    parser.on('part', (part) => {
      const number = ++parts;
      const body = new PassThrough();
      const headers = new Promise<Record<string, string[]> | undefined>((resolveHeaders) => {
        part.once('header', (value: Record<string, string[]>) => resolveHeaders(value));
        part.once('error', () => resolveHeaders(undefined));
      });
      part.on('error', () =>
        body.destroy(
          new InvalidDicomError('the body ended before this part was complete (no closing boundary)'),
        ),
      );
      chain = chain
        .then(async () => {
          if (settled) return;
          const contentType = (await headers)?.['content-type']?.[0];
          current = body;
          part.pipe(body);
          await handle({ number, contentType, body });
          current = undefined;
          part.unpipe(body);
          part.resume();
        })
        .catch(fail);
    });
    // An unexpected end is answered through the part it cut (above); the parser then finishes.
    parser.on('error', () => undefined);
    parser.on('finish', () => {
      void chain.then(() => {
        if (!settled) {
          settled = true;
          resolve(parts);
        }
      });
    });
    const abort = () => {
      if (!request.complete) {
        fail(new UploadAbortedError('the client closed the connection before the body was complete'));
      }
    };
    request.on('close', abort);
    request.on('error', abort);
    request.pipe(parser);
  });
}
