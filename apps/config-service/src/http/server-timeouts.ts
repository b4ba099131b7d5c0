import type { Server } from 'node:http';

export interface ServerTimeouts {
  /** HTTP_IDLE_TIMEOUT_MS: a connection that sends and receives nothing this long is closed. */
  idleMs: number;
  /** HTTP_HEADERS_TIMEOUT_MS: the request line and headers must have arrived within this. */
  headersMs: number;
}

/**
 * How long the HTTP server waits for a client. Node's defaults cut an upload at 300 s whatever its
 * pace (`requestTimeout`): a 2 GB study at 5 MB/s takes 400 s, a study of tens of GB hours. So no
 * request has a time limit of its own; instead a connection idle for `idleMs` (no byte either way)
 * is closed, which cuts a client that stopped sending and keeps one that sends steadily, however
 * long. Writes count as activity: a response the server is still streaming is not idle.
 */
export function applyServerTimeouts(server: Server, timeouts: ServerTimeouts): void {
  server.requestTimeout = 0;
  server.headersTimeout = timeouts.headersMs;
  server.setTimeout(timeouts.idleMs);
}
