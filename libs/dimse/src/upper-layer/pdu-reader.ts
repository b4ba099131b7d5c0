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

  /** The first `length` bytes to read from; only ever a PDU header here, so a copy is tiny. */
  private peek(length: number): Buffer {
    const first = this.pending[0];
    if (first !== undefined && first.length >= length) return first;
    return Buffer.concat(this.pending, length);
  }

  /**
   * The first `length` bytes: a view when they lie in one chunk, else a copy of just them. The
   * bytes after them stay views of the chunks they came in, so the start of the next PDU is not
   * copied again with this one (a 256 KB P-DATA-TF arrives in four or five socket chunks).
   */
  private take(length: number): Buffer {
    const first = this.pending[0];
    const taken = first.length >= length ? first.subarray(0, length) : Buffer.concat(this.pending, length);
    for (let left = length; left > 0;) {
      const chunk = this.pending[0];
      if (chunk.length > left) {
        this.pending[0] = chunk.subarray(left);
        break;
      }
      this.pending.shift();
      left -= chunk.length;
    }
    this.pendingLength -= length;
    return taken;
  }
}
