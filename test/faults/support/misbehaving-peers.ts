import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** PS3.8 9.3.4 A-ASSOCIATE-RJ: result 1 = rejected-permanent, 2 = rejected-transient. */
export interface Rejection {
  result: 1 | 2;
  /** 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation). */
  source: 1 | 2 | 3;
  reason: number;
}

export interface CountingServer {
  port: number;
  /** Connections (associations asked for, or HTTP requests) received. */
  readonly count: number;
  close(): Promise<void>;
}

async function listen(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: Server | HttpServer, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

/**
 * A DICOM peer that answers every A-ASSOCIATE-RQ with the same A-ASSOCIATE-RJ, written from
 * PS3.8 directly (type 0x03, length 4, reserved, result, source, reason), counting the tries.
 */
export async function startRejectingScp(rejection: Rejection): Promise<CountingServer> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 6 || buffered.length < 6 + buffered.readUInt32BE(2)) return;
      if (buffered.readUInt8(0) === 0x01) {
        count += 1;
        socket.end(
          Buffer.from([0x03, 0, 0, 0, 0, 4, 0, rejection.result, rejection.source, rejection.reason]),
        );
      } else socket.destroy();
    });
  });
  const port = await listen(server);
  return {
    port,
    get count() {
      return count;
    },
    close: closer(server, sockets),
  };
}

/**
 * A STOW-RS server that reads the whole request, answers 200 at once and then trickles its body, a
 * byte every `gapMs`: a server that is slow without ever being quite silent until `gapMs` passes.
 */
export async function startTricklingStow(gapMs: number): Promise<CountingServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let count = 0;
  const server = createHttpServer((request, response) => {
    count += 1;
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/dicom+json' });
      const body = Buffer.from('{"00081199":{"vr":"SQ","Value":[]}}');
      let sent = 0;
      const timer = setInterval(() => {
        if (response.destroyed || sent >= body.length) {
          clearInterval(timer);
          timers.delete(timer);
          if (!response.destroyed) response.end();
          return;
        }
        response.write(body.subarray(sent, ++sent));
      }, gapMs);
      timers.add(timer);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  const close = closer(server, sockets);
  return {
    port,
    get count() {
      return count;
    },
    close: () => {
      for (const timer of timers) clearInterval(timer);
      return close();
    },
  };
}
