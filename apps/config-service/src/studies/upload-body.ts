import type { IncomingMessage } from 'node:http';
import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import Dicer from 'dicer';
import { InvalidDicomError } from '@pacslink/store';
import { StudyError, StudyErrorCode } from './studies.errors';
import { UploadLimitError, uploadLimitExceeded, type UploadLimits } from './upload-limits';

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
 * the answer can still be sent. Past a limit the body stream errors with an UploadLimitError and
 * the request is left unread (see discardRestThenClose).
 */
export async function singlePart(
  request: IncomingMessage,
  limits: UploadLimits,
  handle: (part: UploadPart) => Promise<void>,
): Promise<void> {
  const body = new PassThrough();
  // Destroyed with a limit's error, maybe before `handle` reads it: the reader finds the error then.
  body.on('error', () => undefined);
  let overLimit = false;
  // The one part is the whole body: the smaller of the two limits is the one it meets.
  const instanceFirst = limits.maxInstanceBytes <= limits.maxRequestBytes;
  const limit = instanceFirst ? limits.maxInstanceBytes : limits.maxRequestBytes;
  let received = 0;
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (received <= limit || overLimit) return;
    overLimit = true;
    request.unpipe(body);
    request.pause();
    body.destroy(
      instanceFirst ? uploadLimitExceeded.instance(1, limits) : uploadLimitExceeded.request(limits),
    );
  };
  const unwatch = watchClient(request, (error) => body.destroy(error));
  request.pipe(body);
  request.on('data', count);
  try {
    await handle({ number: 1, contentType: request.headers['content-type'], body });
  } finally {
    unwatch();
    request.off('data', count);
    request.unpipe(body);
    if (!overLimit) request.resume();
  }
}

/**
 * Hands each part of a multipart body to `handle`, one at a time and in order, as it streams in;
 * resolves to the number of parts. A part whose body ends before its closing boundary errors its
 * stream with an InvalidDicomError; a client that goes away rejects with UploadAbortedError. At
 * one of `limits` the request is read no further: the parts that arrived whole before it still go
 * to `handle`, the part the limit cut errors its stream with the UploadLimitError, and then the
 * promise rejects with it. Any rejection comes once the part being handled has been let go of (its
 * file removed). Whatever `handle` leaves unread of a part is drained, so the next part can come.
 */
export function forEachPart(
  request: IncomingMessage,
  boundary: string,
  limits: UploadLimits,
  handle: (part: UploadPart) => Promise<void>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const parser = new Dicer({ boundary });
    let parts = 0;
    let received = 0;
    let chain = Promise.resolve();
    let current: PassThrough | undefined;
    let settled = false;
    let limit: UploadLimitError | undefined;
    let stopWaiting: () => void = () => undefined;
    const stopped = new Promise<undefined>((resolveStopped) => {
      stopWaiting = () => resolveStopped(undefined);
    });

    /** Feeds the parser at most UPLOAD_MAX_REQUEST_BYTES: a limit falls exactly where it is. */
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (limit !== undefined) return done();
        const room = limits.maxRequestBytes - received;
        received += chunk.length;
        if (chunk.length <= room) return done(null, chunk);
        done(null, chunk.subarray(0, room));
        stopAt(uploadLimitExceeded.request(limits));
      },
    });

    /**
     * Reads no further: the parser ends on what it has, so the parts that arrived whole end as
     * usual and the one cut short errors (with `error`); its 'finish' then rejects.
     */
    const stopAt = (error: UploadLimitError) => {
      if (limit !== undefined) return;
      limit = error;
      request.unpipe(meter);
      request.pause();
      meter.end();
    };

    const fail = (reason: unknown) => {
      if (settled) return;
      settled = true;
      const error = reason instanceof Error ? reason : new Error(String(reason));
      unwatch();
      if (error instanceof UploadLimitError) stopAt(error);
      else {
        request.unpipe(meter);
        request.resume();
      }
      current?.destroy(error);
      stopWaiting();
      void chain.then(() => reject(error));
    };

    parser.on('part', (part: Readable) => {
      const number = ++parts;
      if (number > limits.maxParts) {
        part.resume();
        stopAt(uploadLimitExceeded.parts(limits));
        return;
      }
      const body = new PassThrough();
      const headers = new Promise<Record<string, string[]> | undefined>((resolveHeaders) => {
        part.once('header', (value: Record<string, string[]>) => resolveHeaders(value));
        part.once('error', () => resolveHeaders(undefined));
      });
      part.on('error', () =>
        body.destroy(
          limit ??
            new InvalidDicomError('the body ended before this part was complete (no closing boundary)'),
        ),
      );
      // A part is destroyed with its error before `handle` reads it: the reader finds the error then.
      body.on('error', () => undefined);
      let partBytes = 0;
      const countPart = (chunk: Buffer) => {
        partBytes += chunk.length;
        if (partBytes > limits.maxInstanceBytes) fail(uploadLimitExceeded.instance(number, limits));
      };
      chain = chain
        .then(async () => {
          if (settled) return;
          const contentType = (await Promise.race([headers, stopped]))?.['content-type']?.[0];
          if (settled) return;
          current = body;
          part.pipe(body);
          part.on('data', countPart);
          await handle({ number, contentType, body });
          current = undefined;
          part.unpipe(body);
          part.off('data', countPart);
          part.resume();
        })
        .catch(fail);
    });
    // An unexpected end is answered through the part it cut (above); the parser then finishes.
    parser.on('error', () => undefined);
    parser.on('finish', () => {
      void chain.then(() => {
        if (limit !== undefined) return fail(limit);
        if (settled) return;
        settled = true;
        unwatch();
        resolve(parts);
      });
    });
    const unwatch = watchClient(request, fail);
    // dicer throws out of write() on some part headers (one named __proto__: CVE-2022-24434, no
    // fixed release): uncaught, that ended the process. Caught here, it ends this upload with a 400.
    const feed = new Writable({
      write(chunk: Buffer, _encoding, done) {
        try {
          parser.write(chunk, done);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          fail(
            new StudyError(
              StudyErrorCode.MalformedMultipart,
              `part ${Math.max(parts, 1)}: its headers could not be read (${reason})`,
            ),
          );
          done();
        }
      },
      final(done) {
        if (!settled) parser.end();
        done();
      },
    });
    request.pipe(meter).pipe(feed);
  });
}

/**
 * Calls `gone` with an UploadAbortedError when the connection ends before the body is complete:
 * the client closed it, or sent nothing for the server's idle timeout (HTTP_IDLE_TIMEOUT_MS), after
 * which Node closes it. Answers a function that stops watching.
 */
function watchClient(request: IncomingMessage, gone: (error: UploadAbortedError) => void): () => void {
  let idle = false;
  const timedOut = () => {
    idle = true;
  };
  const closed = () => {
    if (request.complete) return;
    gone(
      new UploadAbortedError(
        idle
          ? `the client sent nothing for ${request.socket.timeout ?? 0} ms (HTTP_IDLE_TIMEOUT_MS), and the connection was closed before the body was complete`
          : 'the client closed the connection before the body was complete',
      ),
    );
  };
  // Registered after the server's own listener, which closes the socket: the flag is set before 'close'.
  request.socket.on('timeout', timedOut);
  request.on('close', closed);
  request.on('error', closed);
  return () => {
    request.socket.off('timeout', timedOut);
    request.off('close', closed);
    request.off('error', closed);
  };
}

/** How long a refused upload's client is listened to before its connection is closed. */
export const DISCARD_AFTER_REFUSAL_MS = 2_000;

/**
 * After an answer sent before the body was read to its end (413): reads and throws away what the
 * client still sends for a short while, then closes the connection. Closing at once, with bytes
 * unread, makes TCP reset the connection, and a client still sending may lose the answer (RFC 9112
 * 9.6); reading on without end is what the limit is there to prevent. A client that stops sending
 * when the answer comes (curl does) keeps its connection.
 */
export function discardRestThenClose(request: IncomingMessage, ms = DISCARD_AFTER_REFUSAL_MS): void {
  if (request.complete) return;
  const timer = setTimeout(() => request.socket.destroy(), ms);
  timer.unref();
  request.once('end', () => clearTimeout(timer));
  request.once('close', () => clearTimeout(timer));
  request.resume();
}
