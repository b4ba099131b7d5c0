import { PDU_HEADER_LENGTH, PduFormatError, PduType } from './pdu';

export interface RawPdu {
  type: number;
  body: Buffer;
}

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(PduType));

/**
 * Cuts the byte stream from the peer into whole PDUs. Bytes are kept only until their PDU is
 * complete; a PDU larger than `maxPduLength` (what we announced, plus slack for the association
 * PDUs) is refused rather than buffered.
 */
export class PduReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  constructor(private readonly maxPduLength: number) {}

  push(chunk: Buffer): RawPdu[] {
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    const pdus: RawPdu[] = [];
    while (this.pendingLength >= PDU_HEADER_LENGTH) {
      const head = this.peek(PDU_HEADER_LENGTH);
      const type = head.readUInt8(0);
      if (!KNOWN_TYPES.has(type)) throw new PduFormatError(`unknown PDU type 0x${type.toString(16)}`);
      const length = head.readUInt32BE(2);
      if (length > this.maxPduLength) {
        throw new PduFormatError(`PDU of ${length} bytes exceeds the ${this.maxPduLength} bytes announced`);
      }
      if (this.pendingLength < PDU_HEADER_LENGTH + length) break;
      const whole = this.take(PDU_HEADER_LENGTH + length);
      pdus.push({ type, body: whole.subarray(PDU_HEADER_LENGTH) });
    }
    return pdus;
  }

  private peek(length: number): Buffer {
    const first = this.pending[0];
    if (first !== undefined && first.length >= length) return first;
    const joined = Buffer.concat(this.pending);
    this.pending = [joined];
    return joined;
  }

  private take(length: number): Buffer {
    const joined = this.peek(length);
    const taken = joined.subarray(0, length);
    const rest = joined.subarray(length);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingLength -= length;
    return taken;
  }
}
