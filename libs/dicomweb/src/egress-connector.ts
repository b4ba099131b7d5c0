import { types } from 'node:util';
import { buildConnector, errors } from 'undici';
import { pinnedLookup, type EgressGuard } from '@pacslink/egress';
import { keepPausedParserAssertion } from './paused-parser-end';

export type ConnectorOptions = buildConnector.BuildOptions & { timeout: number };

/**
 * An undici connector that asks the egress guard before any socket exists: the host is resolved
 * once, every address checked, and the socket may connect only to the allowed ones (Node's own
 * lookup is replaced, so nothing is resolved a second time: DNS rebinding gets no second answer).
 * The TLS server name stays the configured host. `timeout` bounds the resolution and the connect
 * together, as Node's own lookup inside the connect timeout did.
 */
export function egressConnector(egress: EgressGuard, options: ConnectorOptions): buildConnector.connector {
  return (target, callback) => {
    const started = performance.now();
    const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      callback(
        new errors.ConnectTimeoutError(`no address for ${target.hostname} within ${options.timeout} ms`),
        null,
      );
    }, options.timeout);
    egress.resolve(target.hostname, port).then(
      (addresses) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        const remaining = Math.max(1, options.timeout - Math.round(performance.now() - started));
        buildConnector({ ...options, timeout: remaining, lookup: pinnedLookup(addresses) })(
          target,
          (...args) => {
            // undici 6 ends the process on a paused parser at the connection's end (paused-parser-end.ts)
            const [, socket] = args;
            if (socket) keepPausedParserAssertion(socket);
            callback(...args);
          },
        );
      },
      (error: unknown) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        // isNativeError: DNS errors come from Node's realm, which is not the caller's under jest.
        callback(types.isNativeError(error) ? error : new Error(String(error)), null);
      },
    );
  };
}
