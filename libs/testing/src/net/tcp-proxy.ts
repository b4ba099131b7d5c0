import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

type Mode = 'forwarding' | 'blackhole';

/**
 * A TCP proxy of the test's own between a service and a real server, to cut the network without
 * stopping the server: `cut()` drops every connection and refuses new ones, `blackhole()` keeps
 * connections open but lets no byte through (a peer that silently stops answering), `restore()`
 * heals both.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private mode: Mode = 'forwarding';
  private listenPort = 0;

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
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
    const upstream = createConnection({ host: this.upstreamHost, port: this.upstreamPort });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => this.mode === 'forwarding' && upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => this.mode === 'forwarding' && client.write(chunk));
  }
}
