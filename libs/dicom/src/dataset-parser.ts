import { VALUE_REPRESENTATIONS, type DicomElement, type ValueRepresentation } from './dicom-element';
import { implicitVr } from './dictionary';
import {
  hexTag,
  InvalidVrError,
  ITEM_DELIMITATION_TAG,
  ITEM_TAG,
  readElementHeader,
  SEQUENCE_DELIMITATION_TAG,
  tagKey,
  UNDEFINED_LENGTH,
  type ElementHeader,
} from './element-header';

export class DatasetParseError extends Error {
  override readonly name = 'DatasetParseError';
}

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

  /** The next element header (libs/dicom's one reader), the offset moved past it. */
  header(end: number, explicitVr: boolean): ElementHeader {
    let header: ElementHeader | undefined;
    try {
      header = readElementHeader(this.bytes, this.offset, explicitVr, end);
    } catch (error) {
      throw error instanceof InvalidVrError ? new DatasetParseError(error.message) : error;
    }
    if (header === undefined) {
      throw new DatasetParseError(
        `truncated element header at byte ${this.offset} (has ${end - this.offset})`,
      );
    }
    this.offset += header.headerBytes;
    return header;
  }
}

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
    const header = reader.header(end, explicitVr);
    if (header.tag === ITEM_DELIMITATION_TAG) {
      if (delimited) return elements;
      throw new DatasetParseError('item delimitation outside an item of undefined length');
    }
    if (header.tag === ITEM_TAG || header.tag === SEQUENCE_DELIMITATION_TAG) {
      throw new DatasetParseError(
        `unexpected ${header.tag === ITEM_TAG ? 'item' : 'sequence delimitation'} tag at byte ${reader.offset - header.headerBytes}`,
      );
    }
    const tag = tagKey(header.tag);
    let vr: ValueRepresentation;
    if (header.vr === undefined) {
      vr = implicitVr(tag);
    } else if (VALUE_REPRESENTATIONS.has(header.vr)) {
      vr = header.vr as ValueRepresentation;
    } else {
      throw new DatasetParseError(`unknown VR "${header.vr}" for ${hexTag(tag)}`);
    }
    const element = readValue(reader, end, tag, vr, header.length, explicitVr);
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
  if (length === UNDEFINED_LENGTH) throw new DatasetParseError(`undefined length for ${hexTag(tag)} ${vr}`);
  reader.need(length, end, `value of ${hexTag(tag)}`);
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
    const { tag, length: itemLength } = reader.header(end, false);
    if (tag === SEQUENCE_DELIMITATION_TAG) {
      if (undefinedLength) return items;
      throw new DatasetParseError('sequence delimitation in a sequence of defined length');
    }
    if (tag !== ITEM_TAG) throw new DatasetParseError(`expected an item in a sequence, found ${hexTag(tag)}`);
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
