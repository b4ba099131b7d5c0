/**
 * Finds the SOP Instance UIDs a client sends to a PACS in the raw bytes of its connection, across
 * chunk boundaries, without decoding the protocol (so a symmetric bug in our codec cannot hide):
 *
 * - DIMSE: a C-STORE-RQ's command set is Implicit VR Little Endian (PS3.7 E.1): Affected SOP
 *   Instance UID (0000,1000) is `00 00 00 10`, a 4-byte length, the UID.
 * - STOW-RS: each part is a Part 10 file whose meta header is Explicit VR Little Endian (PS3.10
 *   7.1): Media Storage SOP Instance UID (0002,0003) is `02 00 03 00 'U' 'I'`, a 2-byte length.
 */
const PATTERNS = [
  { tag: Buffer.from([0x00, 0x00, 0x00, 0x10]), lengthBytes: 4 },
  { tag: Buffer.from([0x02, 0x00, 0x03, 0x00, 0x55, 0x49]), lengthBytes: 2 },
] as const;

const MAX_UID_LENGTH = 64;
/** Enough to hold the longest match (tag + length + UID) that a chunk boundary can cut. */
const CARRY = 6 + 4 + MAX_UID_LENGTH;
const UID = /^[0-9]+(\.[0-9]+)+$/;

export class UidScanner {
  private tail = Buffer.alloc(0);

  /** The UIDs that became complete with this chunk. */
  feed(chunk: Buffer): string[] {
    const buffer = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const found: string[] = [];
    for (const { tag, lengthBytes } of PATTERNS) {
      for (let at = buffer.indexOf(tag); at !== -1; at = buffer.indexOf(tag, at + 1)) {
        const lengthAt = at + tag.length;
        if (lengthAt + lengthBytes > buffer.length) break;
        const length = lengthBytes === 4 ? buffer.readUInt32LE(lengthAt) : buffer.readUInt16LE(lengthAt);
        const end = lengthAt + lengthBytes + length;
        // Matches that ended inside the carried tail were reported with the previous chunk.
        if (length > MAX_UID_LENGTH || end > buffer.length || end <= this.tail.length) continue;
        const uid = buffer.toString('latin1', lengthAt + lengthBytes, end).replace(/[\0 ]+$/, '');
        if (UID.test(uid)) found.push(uid);
      }
    }
    this.tail = Buffer.from(buffer.subarray(Math.max(0, buffer.length - CARRY)));
    return found;
  }
}
