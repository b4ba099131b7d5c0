import { Readable } from 'node:stream';
import { MultipartScanner, type MultipartEvent } from './multipart-scanner';

/** One part of a multipart body, its bytes streaming as the body arrives. */
export interface MultipartPart {
  /** From 1, in body order. */
  number: number;
  /** Names lower-cased. */
  headers: ReadonlyMap<string, string>;
  body: Readable;
}

export interface ForEachPartOptions {
  /** Bytes a part's stream buffers before the body is paused (default 256 KiB). */
  partHighWaterMark?: number;
  maxHeaderBytes?: number;
  /**
   * Turns a failure of the source or of the framing into the error the caller wants (the part in
   * progress is destroyed with it, and the call rejects with it).
   */
  mapError?: (error: unknown, facts: { parts: number; inPart: boolean }) => Error;
}

/** A part's body: `push()` answers false when its reader is full; `readerWants()` waits for it. */
class PartBody extends Readable {
  private wake: (() => void) | undefined;

  override _read(): void {
    this.release();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.release();
    callback(error);
  }

  readerWants(): Promise<void> {
    if (this.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private release(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * Reads a multipart body from `source` and hands each part to `handle` as soon as its headers are
 * read, one part at a time: the next part's headers are read only once `handle`'s promise for this
 * one has settled. The source is read only as fast as the part's reader reads (a `for await` that
 * waits whenever the part's buffer is full, so an HTTP body stays paused meanwhile). What `handle`
 * leaves unread is dropped. On a source failure, bad framing or a body cut short the part in
 * progress is destroyed with the (mapped) error, `handle` is waited for, and the call rejects with
 * that error. `handle` must not reject; if it does, the call rejects with its error.
 */
export async function forEachPart(
  source: AsyncIterable<Buffer>,
  boundary: string,
  handle: (part: MultipartPart) => Promise<void>,
  options: ForEachPartOptions = {},
): Promise<{ parts: number }> {
  const scanner = new MultipartScanner(boundary, options.maxHeaderBytes);
  const highWaterMark = options.partHighWaterMark ?? 256 * 1024;
  let current: { body: PartBody; handled: Promise<void>; settled: boolean } | undefined;
  /**
   * Parts handed to `handle`. Not the scanner's count: it has read the whole chunk, and any parts
   * after this one in it, by the time an event is applied.
   */
  let handed = 0;
  /** The error this call rejects with, once decided. */
  let failure: Error | undefined;

  const mapError = (error: unknown): Error =>
    options.mapError?.(error, { parts: handed, inPart: current !== undefined }) ??
    (error instanceof Error ? error : new Error(String(error)));

  const failWith = async (error: Error): Promise<never> => {
    failure = error;
    if (current !== undefined) {
      current.body.destroy(error);
      await current.handled;
      current = undefined;
    }
    throw error;
  };

  const apply = async (events: readonly MultipartEvent[]): Promise<void> => {
    for (const event of events) {
      if (failure !== undefined) throw failure;
      switch (event.kind) {
        case 'part': {
          const body = new PartBody({ highWaterMark });
          const part = { body, handled: Promise.resolve(), settled: false };
          part.handled = handle({ number: ++handed, headers: event.headers, body }).then(
            () => {
              part.settled = true;
              // Done before reading it all: drop the rest (and free a push waiting for a reader).
              body.destroy();
            },
            (error: unknown) => {
              part.settled = true;
              failure ??= error instanceof Error ? error : new Error(String(error));
              body.destroy();
            },
          );
          current = part;
          break;
        }
        case 'data':
          if (current === undefined || current.settled || current.body.destroyed) break;
          if (!current.body.push(event.bytes)) await current.body.readerWants();
          break;
        case 'part-end':
          if (current !== undefined) {
            if (!current.body.destroyed) current.body.push(null);
            await current.handled;
            current = undefined;
            // Set by the handler's rejection meanwhile (TypeScript narrowed it to undefined above).
            const handlerFailure = failure as Error | undefined;
            if (handlerFailure !== undefined) throw handlerFailure;
          }
          break;
        case 'end':
          break;
        case 'error':
          await failWith(mapError(event.error));
      }
    }
  };

  try {
    for await (const chunk of source) await apply(scanner.push(chunk));
    await apply(scanner.finish());
  } catch (error) {
    if (failure !== undefined) throw failure;
    await failWith(mapError(error));
  }
  return { parts: handed };
}
