import { LONG_LENGTH_VRS, type ValueRepresentation } from './dicom-element';
import { hexTag, ITEM_TAG } from './element-header';

/** One element to write: its value already encoded (text in its character set), not yet padded. */
export interface EncodableElement {
  tag: string;
  vr: ValueRepresentation;
  /** ignored for SQ, whose value is its items */
  value: Buffer;
  /** SQ only: the items, each a data set; none is an empty sequence (C-FIND universal matching) */
  items?: readonly (readonly EncodableElement[])[];
}

/** PS3.5 6.2: UI and binary values are padded with NUL, text with a space, to an even length. */
function padded(vr: ValueRepresentation, value: Buffer): Buffer {
  if (value.length % 2 === 0) return value;
  const pad = vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0x00 : 0x20;
  return Buffer.concat([value, Buffer.from([pad])]);
}

function header(tag: number, vr: ValueRepresentation, length: number, explicitVr: boolean): Buffer {
  const long = !explicitVr || LONG_LENGTH_VRS.has(vr);
  if (explicitVr && !long && length > 0xffff) {
    throw new RangeError(`the value of ${hexTag(tag)} is ${length} bytes, too long for VR ${vr}`);
  }
  const bytes = Buffer.alloc(explicitVr && long ? 12 : 8);
  bytes.writeUInt16LE(tag >>> 16, 0);
  bytes.writeUInt16LE(tag & 0xffff, 2);
  if (!explicitVr) bytes.writeUInt32LE(length, 4);
  else if (long) {
    bytes.write(vr, 4, 'latin1');
    bytes.writeUInt32LE(length, 8);
  } else {
    bytes.write(vr, 4, 'latin1');
    bytes.writeUInt16LE(length, 6);
  }
  return bytes;
}

function encodeInto(chunks: Buffer[], elements: readonly EncodableElement[], explicitVr: boolean): number {
  const sorted = [...elements].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  let length = 0;
  for (const element of sorted) {
    if (!/^[0-9A-F]{8}$/.test(element.tag)) throw new RangeError(`invalid tag ${element.tag}`);
    const tag = parseInt(element.tag, 16);
    if (element.vr !== 'SQ') {
      const value = padded(element.vr, element.value);
      const head = header(tag, element.vr, value.length, explicitVr);
      chunks.push(head, value);
      length += head.length + value.length;
      continue;
    }
    // Defined lengths throughout (PS3.5 7.5.1): the items are encoded first to know them.
    const body: Buffer[] = [];
    let bodyLength = 0;
    for (const item of element.items ?? []) {
      const itemChunks: Buffer[] = [];
      const itemLength = encodeInto(itemChunks, item, explicitVr);
      const itemHeader = header(ITEM_TAG, 'SQ', itemLength, false);
      body.push(itemHeader, ...itemChunks);
      bodyLength += itemHeader.length + itemLength;
    }
    const head = header(tag, 'SQ', bodyLength, explicitVr);
    chunks.push(head, ...body);
    length += head.length + bodyLength;
  }
  return length;
}

/**
 * Encodes a data set in Implicit or Explicit VR Little Endian (as the presentation context says),
 * elements in ascending tag order as PS3.5 7.1 requires, sequences and items with defined lengths.
 * Text values arrive already encoded in the data set's character set (dicomJsonElements does that).
 */
export function encodeDataset(elements: readonly EncodableElement[], explicitVr: boolean): Buffer {
  const chunks: Buffer[] = [];
  encodeInto(chunks, elements, explicitVr);
  return Buffer.concat(chunks);
}
