import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

type Mode = 'forwarding' | 'blackhole';

export interface TcpProxyOptions {
  /** Every chunk waits this long before it is passed on, both ways: a slow link, or a slow PACS. */
  delayMs?: number;
  /** Sees every chunk a client sends upstream, with the number of its connection (1, 2, …). */
  tapClient?: (connection: number, chunk: Buffer) => void;
  /** Sees every chunk the server sends back, as it arrives (before any delay). */
  tapServer?: (connection: number, chunk: Buffer) => void;
}

/**
 * A TCP proxy of the test's own between a service and a real server, to cut the network without
 * stopping the server: `cut()` drops every connection and refuses new ones, `blackhole()` keeps
 * connections open but lets no byte through (a peer that silently stops answering), `restore()`
 * heals both. It counts the connections open at once (`maxOpen`): e.g. associations to a PACS.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private mode: Mode = 'forwarding';
  private listenPort = 0;
  private connections = 0;
  /** Connections open now (a connection counts until both of its sides closed). */
  open = 0;
  /** The most connections open at once. */
  maxOpen = 0;

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
    private readonly options: TcpProxyOptions = {},
  ) {}

  get port(): number {
    return this.listenPort;
  }

  async start(): Promise<this> {
    await this.listen(0);
    return this;
  }

  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Connections that lost bytes in a blackhole are dropped: their streams cannot be trusted. */
  async restore(): Promise<void> {
    if (this.mode === 'blackhole') for (const socket of this.sockets) socket.destroy();
    this.mode = 'forwarding';
    if (!this.server) await this.listen(this.listenPort);
  }

  async close(): Promise<void> {
    await this.cut();
  }

  private listen(port: number): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.listenPort = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    const connection = ++this.connections;
    const upstream = createConnection({ host: this.upstreamHost, port: this.upstreamPort });
    const { delayMs = 0, tapClient, tapServer } = this.options;
    this.open += 1;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    let closed = 0;
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        this.sockets.delete(socket);
        // The other side goes once what is still delayed has reached it.
        const teardown = () => {
          client.destroy();
          upstream.destroy();
        };
        if (delayMs > 0) setTimeout(teardown, delayMs);
        else teardown();
        if (++closed === 2) this.open -= 1;
      });
    }
    const pass = (to: Socket) => (chunk: Buffer) => {
      if (this.mode !== 'forwarding') return;
      if (delayMs > 0)
        setTimeout(() => to.writable && this.mode === 'forwarding' && to.write(chunk), delayMs);
      else to.write(chunk);
    };
    client.on('data', (chunk: Buffer) => tapClient?.(connection, chunk));
    client.on('data', pass(upstream));
    upstream.on('data', (chunk: Buffer) => tapServer?.(connection, chunk));
    upstream.on('data', pass(client));
  }
}
