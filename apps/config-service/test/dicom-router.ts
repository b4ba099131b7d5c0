import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** Where an association goes: by an abstract syntax its A-ASSOCIATE-RQ proposes, else `otherwise`. */
export interface DicomRoutes {
  bySyntax: Record<string, () => number>;
  otherwise: () => number;
}

export interface DicomRouter {
  port: number;
  close(): Promise<void>;
}

/**
 * One address for several test peers, as one RIS or PACS offers worklist, MPPS and storage on one
 * AE: reads each connection's A-ASSOCIATE-RQ (PS3.8 9.3.2), finds the first abstract syntax of
 * `routes` it proposes, and pipes the connection, bytes untouched, to that peer's port on
 * 127.0.0.1. A peer that is down closes the connection, as the peer itself would.
 */
export async function startDicomRouter(routes: DicomRoutes): Promise<DicomRouter> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 6 || head.length < 6 + head.readUInt32BE(2)) return;
      client.off('data', onData);
      client.pause();
      const text = head.toString('latin1');
      const syntax = Object.keys(routes.bySyntax).find((uid) => text.includes(uid));
      const port = syntax === undefined ? routes.otherwise() : routes.bySyntax[syntax]();
      const upstream = connect(port, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      upstream.once('connect', () => {
        upstream.write(head);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        client.on('close', () => upstream.destroy());
      });
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
