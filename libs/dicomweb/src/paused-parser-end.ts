import type { Socket } from 'node:net';
import { types } from 'node:util';

/** How often a socket event whose undici listener met a paused parser is tried again. */
const RETRY_MS = 10;
/**
 * How long: a reader that stopped for good (its request aborted, its handler failed) never lets
 * the parser go on. The rest of an answer that a reader still takes is a few hundred KiB.
 */
export const PAUSED_PARSER_GIVE_UP_MS = 60_000;

/**
 * undici 6.29's HTTP/1 client calls Parser.finish() from its socket 'end' and 'close' listeners, and
 * finish() asserts `!this.paused`. A body delimited by the connection's close (no Content-Length,
 * not chunked: Orthanc's WADO-RS answers, `Connection: close`) whose last bytes were parsed while
 * its reader held it paused (back-pressure) meets the server's FIN with a paused parser: the
 * AssertionError leaves the event, no caller can catch it, and the process ends
 * (nodejs/undici#5360, fixed by #5474 in 7.x/8.x, not in 6.x). Seen with Orthanc 1.10 and a study
 * store slower than the wire in about one series retrieval in three.
 */
export function isPausedParserAssertion(error: unknown): boolean {
  // isNativeError: node:assert's errors come from Node's realm, which is not the caller's under jest.
  return (
    types.isNativeError(error) &&
    (error as { code?: unknown }).code === 'ERR_ASSERTION' &&
    /assert\(!this\.paused\)/.test(error.message) &&
    /Parser\.finish/.test(error.stack ?? '')
  );
}

/**
 * Emits the socket's 'end' and 'close' to each listener as EventEmitter does, except that a
 * listener stopped by that assertion (undici's, before it changed anything: the assertion is
 * finish()'s first check) is called again every RETRY_MS, in the order they failed, until it runs
 * through: once the reader has taken what the parser holds, the parser goes on, and finish()
 * completes the answer as for any body that ends with its connection. After `giveUpMs` they are
 * dropped: the request's own timeout or abort has ended it by then.
 */
export function keepPausedParserAssertion(socket: Socket, giveUpMs = PAUSED_PARSER_GIVE_UP_MS): void {
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  const pending: { listener: (...args: unknown[]) => unknown; args: unknown[] }[] = [];
  let deadline = 0;
  const retry = () => {
    while (pending.length > 0) {
      const [next] = pending;
      if (!runs(() => next.listener.apply(socket, next.args))) {
        if (Date.now() < deadline) setTimeout(retry, RETRY_MS);
        else pending.length = 0;
        return;
      }
      pending.shift();
    }
  };
  socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'end' && event !== 'close') return emit(event, ...args);
    const listeners = this.rawListeners(event) as ((...args: unknown[]) => unknown)[];
    for (const listener of listeners) {
      // after one waits, the later ones wait too: undici's 'close' expects its 'end' to have run
      if (pending.length > 0 || !runs(() => listener.apply(this, args))) {
        pending.push({ listener, args });
        if (pending.length === 1) {
          deadline = Date.now() + giveUpMs;
          setTimeout(retry, RETRY_MS);
        }
      }
    }
    return listeners.length > 0;
  } as Socket['emit'];
}

/** false: stopped by the paused-parser assertion; any other error goes on up. */
function runs(call: () => unknown): boolean {
  try {
    call();
    return true;
  } catch (error) {
    if (!isPausedParserAssertion(error)) throw error;
    return false;
  }
}
