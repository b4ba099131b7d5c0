import { LONG_LENGTH_VRS } from './dicom-element';

/** PS3.5 7.1.1: a length of 0xFFFFFFFF is undefined (a sequence or item closed by a delimiter). */
export const UNDEFINED_LENGTH = 0xffffffff;
/** PS3.5 7.5: the item and delimitation tags, (group << 16) | element. */
export const ITEM_TAG = 0xfffee000;
export const ITEM_DELIMITATION_TAG = 0xfffee00d;
export const SEQUENCE_DELIMITATION_TAG = 0xfffee0dd;

/** `0020000D` (the DICOM JSON key) for 0x0020000d. */
export function tagKey(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(8, '0');
}

/** `(0002,0010)` for 0x00020010 or `00020010`: how a tag is named in messages. */
export function hexTag(tag: number | string): string {
  const hex = typeof tag === 'number' ? tagKey(tag) : tag.toUpperCase();
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

/** One element header in Little Endian (PS3.5 7.1); the value follows at `offset + headerBytes`. */
export interface ElementHeader {
  tag: number;
  /** the VR as written in Explicit VR; undefined in Implicit VR and for items and delimiters */
  vr: string | undefined;
  /** UNDEFINED_LENGTH for sequences and items closed by a delimiter */
  length: number;
  headerBytes: number;
}

/** An Explicit VR header whose VR is not two upper-case letters: the bytes are not a data set. */
export class InvalidVrError extends Error {
  override readonly name = 'InvalidVrError';

  constructor(tag: number, found: Buffer) {
    super(`element ${hexTag(tag)} has no valid VR (found bytes ${found.toString('hex').toUpperCase()})`);
  }
}

/**
 * The element header at `offset` (items and delimiters have no VR in either encoding), or undefined
 * when `end` comes first: a stream's reader waits for more bytes, a whole data set's reader calls it
 * truncated. Throws InvalidVrError.
 */
export function readElementHeader(
  bytes: Buffer,
  offset: number,
  explicitVr: boolean,
  end = bytes.length,
): ElementHeader | undefined {
  const available = end - offset;
  if (available < 8) return undefined;
  const tag = ((bytes.readUInt16LE(offset) << 16) | bytes.readUInt16LE(offset + 2)) >>> 0;
  if (!explicitVr || tag >>> 16 === 0xfffe) {
    return { tag, vr: undefined, length: bytes.readUInt32LE(offset + 4), headerBytes: 8 };
  }
  const vr = bytes.toString('latin1', offset + 4, offset + 6);
  if (!/^[A-Z]{2}$/.test(vr)) throw new InvalidVrError(tag, bytes.subarray(offset + 4, offset + 6));
  if (!LONG_LENGTH_VRS.has(vr)) return { tag, vr, length: bytes.readUInt16LE(offset + 6), headerBytes: 8 };
  if (available < 12) return undefined;
  return { tag, vr, length: bytes.readUInt32LE(offset + 8), headerBytes: 12 };
}
