import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { UidScanner } from './uid-scanner';

/**
 * What one "sending" is on the wire: a DIMSE association lasts its whole connection (one batch per
 * association); a STOW-RS request ends when the server starts answering (keep-alive connections
 * carry several, one after the other).
 */
export type ProbeUnit = 'association' | 'request';

export interface PacsProbeOptions {
  unit: ProbeUnit;
  /** Every chunk the PACS sends is held this long: a slow PACS, or time to act mid-batch. */
  responseDelayMs?: number;
}

interface Sending {
  id: number;
  connection: number;
  uids: Set<string>;
}

/**
 * A TCP relay of the suite's own in front of a PACS that counts what a test must prove about the
 * senders: connections open at once (`maxOpen`, against maxAssociations), every SOP Instance UID
 * sent (`sends`), and batches sent by two senders at once (`doubleSent`: two sendings open at the
 * same time on different connections that carry the same instance).
 */
export class PacsProbe {
  connections = 0;
  open = 0;
  maxOpen = 0;
  doubleSent = 0;
  readonly doubleSentUids = new Set<string>();
  /** How many times each SOP Instance UID went to the PACS. */
  readonly sends = new Map<string, number>();
  private readonly current = new Map<number, Sending>();
  /** Open connections: the client's port, and whether a request is out and not fully answered yet. */
  private readonly clients = new Map<number, { port: number; lastSentAt: number; lastAnsweredAt: number }>();
  private readonly overlapping = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  private server?: Server;
  private nextId = 0;

  constructor(
    readonly name: string,
    private readonly upstream: { host: string; port: number },
    private readonly options: PacsProbeOptions,
  ) {}

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  async start(): Promise<this> {
    this.server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** The client ports of the connections that sent something not answered yet: who is sending now. */
  activeClientPorts(): number[] {
    return [...this.clients.values()]
      .filter((client) => client.lastSentAt > client.lastAnsweredAt)
      .map((client) => client.port);
  }

  /** Resolves once `count` distinct instances went out since the probe started. */
  sent(count: number): Promise<void> {
    if (this.sends.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private relay(client: Socket): void {
    const connection = ++this.nextId;
    this.connections += 1;
    this.open += 1;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    const upstream = createConnection(this.upstream.port, this.upstream.host);
    const scanner = new UidScanner();
    const state = { port: client.remotePort ?? 0, lastSentAt: 0, lastAnsweredAt: 0 };
    this.clients.set(connection, state);
    let closed = false;
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        this.sockets.delete(socket);
        if (closed) return;
        closed = true;
        this.open -= 1;
        this.current.delete(connection);
        this.clients.delete(connection);
        // Bytes still held for the client go out first, as a slow PACS's would.
        setTimeout(() => {
          client.destroy();
          upstream.destroy();
        }, this.options.responseDelayMs ?? 0);
      });
    }
    client.on('data', (chunk: Buffer) => {
      state.lastSentAt = Date.now();
      upstream.write(chunk);
      for (const uid of scanner.feed(chunk)) this.record(connection, uid);
    });
    const toClient = this.delayed(client, () => (state.lastAnsweredAt = Date.now()));
    upstream.on('data', (chunk: Buffer) => {
      if (this.options.unit === 'request') this.current.delete(connection);
      toClient(chunk);
    });
  }

  /** Writes chunks after the response delay, in order. */
  private delayed(to: Socket, written: () => void): (chunk: Buffer) => void {
    const write = (chunk: Buffer) => {
      if (!to.writable) return;
      to.write(chunk);
      written();
    };
    const delayMs = this.options.responseDelayMs ?? 0;
    return delayMs === 0 ? write : (chunk) => setTimeout(() => write(chunk), delayMs);
  }

  private record(connection: number, uid: string): void {
    let sending = this.current.get(connection);
    if (!sending) {
      sending = { id: ++this.nextId, connection, uids: new Set() };
      this.current.set(connection, sending);
    }
    sending.uids.add(uid);
    this.sends.set(uid, (this.sends.get(uid) ?? 0) + 1);
    for (const other of this.current.values()) {
      if (other === sending || !other.uids.has(uid)) continue;
      const pair = `${Math.min(other.id, sending.id)}:${Math.max(other.id, sending.id)}`;
      this.doubleSentUids.add(uid);
      if (this.overlapping.has(pair)) continue;
      this.overlapping.add(pair);
      this.doubleSent += 1;
    }
    for (const waiter of [...this.waiters]) {
      if (this.sends.size < waiter.count) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}
