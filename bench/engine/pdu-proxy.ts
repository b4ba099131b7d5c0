import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** PS3.8 9.3: the PDU types the benchmark times. */
export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  PData: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
} as const;

/** One association (TCP connection) as the proxy saw it; times are process.hrtime in ns. */
export interface TappedAssociation {
  openedAt: bigint;
  associateRqAt?: bigint;
  associateAcAt?: bigint;
  /** The first P-DATA-TF the caller (pacslink) sent: the first C-STORE on the wire. */
  firstCallerPDataAt?: bigint;
  /** The last P-DATA-TF the peer sent before the release: the last C-STORE-RSP. */
  lastPeerPDataAt?: bigint;
  releaseRqAt?: bigint;
  releaseRpAt?: bigint;
  /** When the caller's side of the connection closed. */
  closedAt?: bigint;
  callerPData: number;
}

/**
 * Reads PDU headers (type, 4-byte length) off one direction of a DICOM connection, whatever the
 * chunking, and reports each PDU's type with the time its first byte arrived.
 */
class PduHeaderReader {
  private pending = Buffer.alloc(0);
  /** Bytes of the current PDU's body still to skip. */
  private skip = 0;

  constructor(private readonly onPdu: (type: number, at: bigint) => void) {}

  read(chunk: Buffer, at: bigint): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.skip > 0) {
        const skipped = Math.min(this.skip, data.length);
        this.skip -= skipped;
        data = data.subarray(skipped);
        continue;
      }
      if (data.length < 6) {
        this.pending = Buffer.from(data);
        return;
      }
      this.onPdu(data[0], at);
      this.skip = data.readUInt32BE(2);
      data = data.subarray(6);
    }
  }
}

/**
 * A TCP proxy in front of a DICOM peer that timestamps the PDUs going through it, both ways, so
 * that the benchmark times what reaches the wire, not what a service says it did.
 */
export class PduProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  readonly associations: TappedAssociation[] = [];

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  async start(): Promise<this> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The associations opened at or after `since`. */
  openedSince(since: bigint): TappedAssociation[] {
    return this.associations.filter((association) => association.openedAt >= since);
  }

  private accept(client: Socket): void {
    const association: TappedAssociation = { openedAt: process.hrtime.bigint(), callerPData: 0 };
    this.associations.push(association);
    const upstream = createConnection({ host: this.upstreamHost, port: this.upstreamPort });
    const caller = new PduHeaderReader((type, at) => {
      if (type === PduType.AssociateRq) association.associateRqAt ??= at;
      if (type === PduType.PData) {
        association.firstCallerPDataAt ??= at;
        association.callerPData += 1;
      }
      if (type === PduType.ReleaseRq) association.releaseRqAt ??= at;
    });
    const peer = new PduHeaderReader((type, at) => {
      if (type === PduType.AssociateAc) association.associateAcAt ??= at;
      if (type === PduType.PData && association.releaseRqAt === undefined) association.lastPeerPDataAt = at;
      if (type === PduType.ReleaseRp) association.releaseRpAt ??= at;
    });
    client.on('close', () => (association.closedAt ??= process.hrtime.bigint()));
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
    // Timestamped on arrival, before it is passed on: the proxy's own cost is not in the figures.
    client.on('data', (chunk: Buffer) => {
      caller.read(chunk, process.hrtime.bigint());
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      peer.read(chunk, process.hrtime.bigint());
      client.write(chunk);
    });
  }
}
