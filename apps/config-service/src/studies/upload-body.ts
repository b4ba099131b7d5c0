import type { IncomingMessage } from 'node:http';
import { PassThrough, Transform, type Readable } from 'node:stream';
import {
  MULTIPART_TRUNCATED,
  MultipartError,
  forEachPart as forEachMultipartPart,
  parseMediaType,
} from '@pacslink/dicomweb';
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
 * file removed). Whatever `handle` leaves unread of a part is dropped, so the next part can come.
 * The framing is read by the multipart parser of libs/dicomweb, the one the WADO-RS retrieve uses.
 */
export async function forEachPart(
  request: IncomingMessage,
  boundary: string,
  limits: UploadLimits,
  handle: (part: UploadPart) => Promise<void>,
): Promise<number> {
  const body = new RequestBody(request, limits);
  let seen = 0;
  /** A body cut short: the part it cut (if any) failed with it; the whole ones before it stand. */
  let truncated: Error | undefined;
  try {
    const { parts } = await forEachMultipartPart(
      body.chunks(),
      boundary,
      async (part) => {
        seen = part.number;
        if (part.number > limits.maxParts) {
          body.stopAt(uploadLimitExceeded.parts(limits));
          return;
        }
        const meter = body.partMeter(part.number);
        // The part's stream fails with the body (cut short, client gone): its reader finds out
        // through the meter, maybe only when it reads.
        part.body.on('error', (error) => meter.destroy(error));
        meter.on('error', () => undefined);
        await handle({
          number: part.number,
          contentType: part.headers.get('content-type'),
          body: part.body.pipe(meter),
        });
      },
      {
        mapError: (error, { parts, inPart }) => {
          if (error instanceof UploadLimitError || error instanceof UploadAbortedError) return error;
          if (error instanceof MultipartError && error.code === MULTIPART_TRUNCATED) {
            truncated = new InvalidDicomError(
              inPart
                ? 'the body ended before this part was complete (no closing boundary)'
                : 'the body ended without its closing boundary',
            );
            return truncated;
          }
          const reason = error instanceof Error ? error.message : String(error);
          return new StudyError(StudyErrorCode.MalformedMultipart, `part ${Math.max(parts, 1)}: ${reason}`);
        },
      },
    );
    if (body.limit !== undefined) throw body.limit;
    return parts;
  } catch (error) {
    if (error === truncated && body.limit === undefined) return seen;
    throw error;
  } finally {
    body.release();
  }
}

/**
 * The request's bytes for the multipart parser, at most UPLOAD_MAX_REQUEST_BYTES of them: a limit
 * falls exactly where it is. Read with read() rather than async iteration, which would destroy
 * the request (and the connection the 413 must go out on) when the parser stops early.
 */
class RequestBody {
  limit: UploadLimitError | undefined;
  private received = 0;
  private wake: (() => void) | undefined;
  private readonly unwatch: () => void;
  private gone: UploadAbortedError | undefined;
  private readonly notify = () => {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };

  constructor(
    private readonly request: IncomingMessage,
    private readonly limits: UploadLimits,
  ) {
    this.unwatch = watchClient(request, (error) => {
      this.gone = error;
      this.notify();
    });
    request.on('readable', this.notify);
    request.on('end', this.notify);
  }

  /** Reads no further: the parts that arrived whole end as usual; the call rejects with `error`. */
  stopAt(error: UploadLimitError): void {
    this.limit ??= error;
    this.notify();
  }

  /** Counts a part's bytes; past UPLOAD_MAX_INSTANCE_BYTES the part errors and reading stops. */
  partMeter(number: number): Transform {
    let bytes = 0;
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        bytes += chunk.length;
        if (bytes <= this.limits.maxInstanceBytes) return done(null, chunk);
        const error = uploadLimitExceeded.instance(number, this.limits);
        this.stopAt(error);
        done(error);
      },
    });
  }

  async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.limit !== undefined) throw this.limit;
      if (this.gone !== undefined) throw this.gone;
      const chunk = this.request.read() as Buffer | null;
      if (chunk === null) {
        if (this.request.readableEnded) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const room = this.limits.maxRequestBytes - this.received;
      this.received += chunk.length;
      if (chunk.length <= room) {
        yield chunk;
        continue;
      }
      if (room > 0) yield chunk.subarray(0, room);
      this.stopAt(uploadLimitExceeded.request(this.limits));
    }
  }

  /** Stops listening; what the client still sends is left unread (see discardRestThenClose). */
  release(): void {
    this.unwatch();
    this.request.off('readable', this.notify);
    this.request.off('end', this.notify);
    if (this.limit === undefined && this.gone === undefined) this.request.resume();
  }
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
