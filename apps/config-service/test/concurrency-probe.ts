import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP relay to a DICOM peer that counts the connections open at once and slows every chunk a
 * little, so that associations overlap when nothing stops them from overlapping.
 */
export class ConcurrencyProbe {
  private server?: Server;
  private open = 0;
  maxOpen = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly delayMs: number,
  ) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  private relay(client: Socket): void {
    this.open += 1;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    const upstream = createConnection(this.port, this.host);
    const later = (to: Socket) => (chunk: Buffer) =>
      setTimeout(() => to.writable && to.write(chunk), this.delayMs);
    client.on('data', later(upstream));
    upstream.on('data', later(client));
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.open -= 1;
      setTimeout(() => {
        client.destroy();
        upstream.destroy();
      }, this.delayMs);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
