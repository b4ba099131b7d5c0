import { LONG_LENGTH_VRS, type ValueRepresentation } from './dicom-element';

/** One element to write: its value already encoded (text in its character set), not yet padded. */
export interface EncodableElement {
  tag: string;
  vr: ValueRepresentation;
  value: Buffer;
}

/** PS3.5 6.2: UI and binary values are padded with NUL, text with a space, to an even length. */
function padded(vr: ValueRepresentation, value: Buffer): Buffer {
  if (value.length % 2 === 0) return value;
  const pad = vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0x00 : 0x20;
  return Buffer.concat([value, Buffer.from([pad])]);
}

/**
 * Encodes a flat data set (a C-FIND identifier) in Implicit or Explicit VR Little Endian, elements in
 * ascending tag order as PS3.5 7.1 requires. A sequence is written empty (universal matching).
 */
export function encodeDataset(elements: readonly EncodableElement[], explicitVr: boolean): Buffer {
  const sorted = [...elements].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const chunks: Buffer[] = [];
  for (const element of sorted) {
    if (!/^[0-9A-F]{8}$/.test(element.tag)) throw new Error(`invalid tag ${element.tag}`);
    const value = element.vr === 'SQ' ? Buffer.alloc(0) : padded(element.vr, element.value);
    const group = parseInt(element.tag.slice(0, 4), 16);
    const number = parseInt(element.tag.slice(4), 16);
    let header: Buffer;
    if (!explicitVr) {
      header = Buffer.alloc(8);
      header.writeUInt16LE(group, 0);
      header.writeUInt16LE(number, 2);
      header.writeUInt32LE(value.length, 4);
    } else if (LONG_LENGTH_VRS.has(element.vr)) {
      header = Buffer.alloc(12);
      header.writeUInt16LE(group, 0);
      header.writeUInt16LE(number, 2);
      header.write(element.vr, 4, 'latin1');
      header.writeUInt32LE(value.length, 8);
    } else {
      if (value.length > 0xffff) throw new Error(`value of ${element.tag} is too long for VR ${element.vr}`);
      header = Buffer.alloc(8);
      header.writeUInt16LE(group, 0);
      header.writeUInt16LE(number, 2);
      header.write(element.vr, 4, 'latin1');
      header.writeUInt16LE(value.length, 6);
    }
    chunks.push(header, value);
  }
  return Buffer.concat(chunks);
}
