import {
  LONG_LENGTH_VRS,
  VALUE_REPRESENTATIONS,
  type DicomElement,
  type ValueRepresentation,
} from '@pacslink/dicom';
import { implicitVr } from './dictionary';

export class DatasetParseError extends Error {
  override readonly name = 'DatasetParseError';
}

const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 'FFFEE000';
const ITEM_DELIMITATION = 'FFFEE00D';
const SEQUENCE_DELIMITATION = 'FFFEE0DD';

const hex4 = (value: number): string => value.toString(16).padStart(4, '0');

class Reader {
  offset = 0;

  constructor(readonly bytes: Buffer) {}

  need(count: number, end: number, what: string): void {
    if (this.offset + count > end) {
      throw new DatasetParseError(
        `truncated ${what} at byte ${this.offset} (needs ${count}, has ${end - this.offset})`,
      );
    }
  }

  tag(end: number): string {
    this.need(4, end, 'tag');
    const group = this.bytes.readUInt16LE(this.offset);
    const element = this.bytes.readUInt16LE(this.offset + 2);
    this.offset += 4;
    return (hex4(group) + hex4(element)).toUpperCase();
  }

  uint16(end: number): number {
    this.need(2, end, 'length');
    const value = this.bytes.readUInt16LE(this.offset);
    this.offset += 2;
    return value;
  }

  uint32(end: number): number {
    this.need(4, end, 'length');
    const value = this.bytes.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }

  vr(end: number): string {
    this.need(2, end, 'VR');
    const vr = this.bytes.toString('latin1', this.offset, this.offset + 2);
    this.offset += 2;
    return vr;
  }
}

const where = (tag: string): string => `(${tag.slice(0, 4)},${tag.slice(4)})`;

/**
 * Parses a data set in Implicit or Explicit VR Little Endian (the only transfer syntaxes this
 * library proposes for identifiers), including sequences of defined and undefined length and UN of
 * undefined length, which PS3.5 6.2.2 says to read as an Implicit VR sequence. In Implicit VR the VR
 * comes from the dictionary (unknown tags: UN).
 */
export function parseDataset(bytes: Buffer, explicitVr: boolean): DicomElement[] {
  return readElements(new Reader(bytes), bytes.length, explicitVr, false);
}

/** Reads elements up to `end`, or up to an item delimitation when `delimited`. */
function readElements(reader: Reader, end: number, explicitVr: boolean, delimited: boolean): DicomElement[] {
  const elements: DicomElement[] = [];
  while (reader.offset < end) {
    const tag = reader.tag(end);
    if (tag === ITEM_DELIMITATION) {
      reader.uint32(end);
      if (delimited) return elements;
      throw new DatasetParseError('item delimitation outside an item of undefined length');
    }
    if (tag === ITEM || tag === SEQUENCE_DELIMITATION) {
      throw new DatasetParseError(
        `unexpected ${tag === ITEM ? 'item' : 'sequence delimitation'} tag at byte ${reader.offset - 4}`,
      );
    }
    let vr: ValueRepresentation;
    let length: number;
    if (explicitVr) {
      const written = reader.vr(end);
      if (!VALUE_REPRESENTATIONS.has(written))
        throw new DatasetParseError(`unknown VR "${written}" for ${where(tag)}`);
      vr = written as ValueRepresentation;
      if (LONG_LENGTH_VRS.has(vr)) {
        reader.need(2, end, 'reserved bytes');
        reader.offset += 2;
        length = reader.uint32(end);
      } else {
        length = reader.uint16(end);
      }
    } else {
      vr = implicitVr(tag);
      length = reader.uint32(end);
    }
    const element = readValue(reader, end, tag, vr, length, explicitVr);
    // Group lengths (gggg,0000) are retired and carry nothing an identifier needs.
    if (!tag.endsWith('0000')) elements.push(element);
  }
  if (delimited) throw new DatasetParseError('item of undefined length without item delimitation');
  return elements;
}

function readValue(
  reader: Reader,
  end: number,
  tag: string,
  vr: ValueRepresentation,
  length: number,
  explicitVr: boolean,
): DicomElement {
  if (vr === 'SQ' || (vr === 'UN' && length === UNDEFINED_LENGTH)) {
    // An undefined-length UN is a sequence whose VR the sender did not know: Implicit VR inside.
    const items = readItems(reader, end, length, vr === 'SQ' ? explicitVr : false);
    return { tag, vr: 'SQ', value: Buffer.alloc(0), items };
  }
  if (length === UNDEFINED_LENGTH) throw new DatasetParseError(`undefined length for ${where(tag)} ${vr}`);
  reader.need(length, end, `value of ${where(tag)}`);
  const value = reader.bytes.subarray(reader.offset, reader.offset + length);
  reader.offset += length;
  return { tag, vr, value };
}

function readItems(reader: Reader, outerEnd: number, length: number, explicitVr: boolean): DicomElement[][] {
  const items: DicomElement[][] = [];
  const undefinedLength = length === UNDEFINED_LENGTH;
  const end = undefinedLength ? outerEnd : reader.offset + length;
  if (end > outerEnd) throw new DatasetParseError('sequence longer than its data set');
  while (reader.offset < end) {
    const tag = reader.tag(end);
    const itemLength = reader.uint32(end);
    if (tag === SEQUENCE_DELIMITATION) {
      if (undefinedLength) return items;
      throw new DatasetParseError('sequence delimitation in a sequence of defined length');
    }
    if (tag !== ITEM) throw new DatasetParseError(`expected an item in a sequence, found ${where(tag)}`);
    if (itemLength === UNDEFINED_LENGTH) {
      items.push(readElements(reader, end, explicitVr, true));
      continue;
    }
    if (reader.offset + itemLength > end) throw new DatasetParseError('item longer than its sequence');
    const itemEnd = reader.offset + itemLength;
    items.push(readElements(reader, itemEnd, explicitVr, false));
    reader.offset = itemEnd;
  }
  if (undefinedLength) throw new DatasetParseError('sequence of undefined length without delimitation');
  return items;
}
