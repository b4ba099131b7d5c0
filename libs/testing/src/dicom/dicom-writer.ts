import { open } from 'node:fs/promises';
import { isValidUid } from '@pacslink/dicom';
import { encodeText, toSpecificCharacterSet, type SpecificCharacterSet } from './character-sets';
import { Tag } from './tags';
import { TransferSyntax } from './uids';

// Minimal DICOM Part 10 writer for test data: Explicit VR Little Endian, defined lengths
// everywhere, elements written in ascending tag order. It writes what it is given; it does not
// check that a dataset satisfies an IOD.

export type StringVr =
  | 'AE'
  | 'AS'
  | 'CS'
  | 'DA'
  | 'DS'
  | 'DT'
  | 'IS'
  | 'LO'
  | 'LT'
  | 'PN'
  | 'SH'
  | 'ST'
  | 'TM'
  | 'UC'
  | 'UI'
  | 'UR'
  | 'UT';
export type NumericVr = 'US' | 'SS' | 'UL' | 'SL' | 'FL' | 'FD';
export type BinaryVr = 'OB' | 'OW' | 'UN';
export type Vr = StringVr | NumericVr | BinaryVr | 'SQ';

/** `[tag, vr, value]`; a string array is a multi-valued element, an SQ value a list of items. */
export type DicomElement =
  | readonly [tag: number, vr: StringVr, value: string | readonly string[]]
  | readonly [tag: number, vr: NumericVr, value: number | readonly number[]]
  | readonly [tag: number, vr: BinaryVr, value: Uint8Array]
  | readonly [tag: number, vr: 'SQ', value: readonly DicomDataset[]];
export type DicomDataset = readonly DicomElement[];

export interface Part10Meta {
  sopClassUid: string;
  sopInstanceUid: string;
}

export const IMPLEMENTATION_CLASS_UID = '2.25.48992414230044956495454566190856168202';
export const IMPLEMENTATION_VERSION_NAME = 'PACSLINK_TEST_1';

// PS3.5 7.1.2: these VRs have a 2-byte reserved field and a 4-byte length in Explicit VR.
const LONG_LENGTH_VRS: ReadonlySet<Vr> = new Set<Vr>(['OB', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT']);
// PS3.5 6.1.2.4: only these VRs may leave the default repertoire under (0008,0005).
const CHARSET_VRS: ReadonlySet<Vr> = new Set<Vr>(['LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
const NUMERIC_SIZE: Record<NumericVr, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8 };
const NUMERIC_WRITE: Record<NumericVr, (bytes: Buffer, value: number, offset: number) => number> = {
  US: (bytes, value, offset) => bytes.writeUInt16LE(value, offset),
  SS: (bytes, value, offset) => bytes.writeInt16LE(value, offset),
  UL: (bytes, value, offset) => bytes.writeUInt32LE(value, offset),
  SL: (bytes, value, offset) => bytes.writeInt32LE(value, offset),
  FL: (bytes, value, offset) => bytes.writeFloatLE(value, offset),
  FD: (bytes, value, offset) => bytes.writeDoubleLE(value, offset),
};

function numericBytes(vr: NumericVr, value: number | readonly number[]): Buffer {
  const values = typeof value === 'number' ? [value] : value;
  const bytes = Buffer.alloc(NUMERIC_SIZE[vr] * values.length);
  values.forEach((v, i) => NUMERIC_WRITE[vr](bytes, v, i * NUMERIC_SIZE[vr]));
  return bytes;
}

function stringBytes(
  vr: StringVr,
  value: string | readonly string[],
  charset?: SpecificCharacterSet,
): Buffer {
  const text = typeof value === 'string' ? value : value.join('\\');
  if (vr === 'UI' && text.split('\\').some((uid) => !isValidUid(uid))) {
    throw new Error(`invalid UID "${text}"`);
  }
  return encodeText(text, CHARSET_VRS.has(vr) ? charset : undefined);
}

/** PS3.5 6.2 / 7.1: values have even length; UI and OB/UN pad with NUL, text with a space. */
function padToEven(vr: Vr, bytes: Buffer): Buffer {
  if (bytes.length % 2 === 0) return bytes;
  if (vr === 'OW' || vr === 'SQ' || vr in NUMERIC_SIZE) {
    throw new Error(`odd length ${bytes.length} for VR ${vr}`);
  }
  const pad = vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0x00 : 0x20;
  return Buffer.concat([bytes, Buffer.of(pad)]);
}

function elementHeader(tag: number, vr: Vr, length: number): Buffer {
  const long = LONG_LENGTH_VRS.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(tag >>> 16, 0);
  header.writeUInt16LE(tag & 0xffff, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(length, 8);
  else if (length > 0xffff) throw new Error(`value of ${length} bytes too long for VR ${vr}`);
  else header.writeUInt16LE(length, 6);
  return header;
}

function itemHeader(length: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0xfffe, 0);
  header.writeUInt16LE(0xe000, 2);
  header.writeUInt32LE(length, 4);
  return header;
}

type NumericElement = Extract<DicomElement, readonly [number, NumericVr, unknown]>;
type BinaryElement = Extract<DicomElement, readonly [number, BinaryVr, unknown]>;
type SequenceElement = Extract<DicomElement, readonly [number, 'SQ', unknown]>;
const isNumericElement = (element: DicomElement): element is NumericElement => element[1] in NUMERIC_SIZE;
const isBinaryElement = (element: DicomElement): element is BinaryElement =>
  element[1] === 'OB' || element[1] === 'OW' || element[1] === 'UN';

function valueBytes(element: Exclude<DicomElement, SequenceElement>, charset?: SpecificCharacterSet): Buffer {
  if (isNumericElement(element)) return numericBytes(element[1], element[2]);
  if (isBinaryElement(element)) {
    return Buffer.from(element[2].buffer, element[2].byteOffset, element[2].byteLength);
  }
  return stringBytes(element[1], element[2], charset);
}

function byteLength(chunks: readonly Buffer[]): number {
  return chunks.reduce((sum, chunk) => sum + chunk.length, 0);
}

/**
 * Encodes a dataset as Explicit VR Little Endian chunks (large values are not copied).
 * Sequence items inherit the Specific Character Set of the enclosing dataset unless they declare
 * their own (PS3.3 C.12.1.1.2).
 */
export function encodeDataset(dataset: DicomDataset, inheritedCharset?: SpecificCharacterSet): Buffer[] {
  const sorted = [...dataset].sort((a, b) => a[0] - b[0]);
  sorted.forEach((element, i) => {
    if (i > 0 && sorted[i - 1][0] === element[0]) throw new Error(`duplicate tag ${element[0].toString(16)}`);
  });
  const charsetElement = sorted.find((element) => element[0] === Tag.SpecificCharacterSet);
  const charset = charsetElement ? toSpecificCharacterSet(charsetElement[2]) : inheritedCharset;

  const chunks: Buffer[] = [];
  for (const element of sorted) {
    const [tag, vr] = element;
    if (element[1] === 'SQ') {
      const items = element[2].map((item) => {
        const body = encodeDataset(item, charset);
        return [itemHeader(byteLength(body)), ...body];
      });
      const length = items.reduce((sum, item) => sum + byteLength(item), 0);
      chunks.push(elementHeader(tag, vr, length), ...items.flat());
    } else {
      const value = padToEven(vr, valueBytes(element, charset));
      chunks.push(elementHeader(tag, vr, value.length), value);
    }
  }
  return chunks;
}

/** `[(0008,0005)]` when a character set is declared, else nothing: absent means ASCII only. */
export function specificCharacterSetElement(charset: SpecificCharacterSet | undefined): DicomElement[] {
  return charset ? [[Tag.SpecificCharacterSet, 'CS', charset]] : [];
}

/** File meta information (PS3.10 7.1) with its group length, for an Explicit VR Little Endian dataset. */
export function encodeFileMeta(meta: Part10Meta): Buffer {
  const body = Buffer.concat(
    encodeDataset([
      [Tag.FileMetaInformationVersion, 'OB', Uint8Array.of(0x00, 0x01)],
      [Tag.MediaStorageSOPClassUID, 'UI', meta.sopClassUid],
      [Tag.MediaStorageSOPInstanceUID, 'UI', meta.sopInstanceUid],
      [Tag.TransferSyntaxUID, 'UI', TransferSyntax.ExplicitVRLittleEndian],
      [Tag.ImplementationClassUID, 'UI', IMPLEMENTATION_CLASS_UID],
      [Tag.ImplementationVersionName, 'SH', IMPLEMENTATION_VERSION_NAME],
    ]),
  );
  const groupLength = Buffer.concat(encodeDataset([[Tag.FileMetaInformationGroupLength, 'UL', body.length]]));
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLength, body]);
}

/** A whole Part 10 file as chunks: 128-byte preamble, "DICM", meta group, dataset. */
export function encodePart10(dataset: DicomDataset, meta: Part10Meta): Buffer[] {
  return [encodeFileMeta(meta), ...encodeDataset(dataset)];
}

/** Writes one Part 10 file without concatenating its chunks; resolves to the file size. */
export async function writePart10File(
  path: string,
  dataset: DicomDataset,
  meta: Part10Meta,
): Promise<number> {
  const chunks = encodePart10(dataset, meta);
  const expected = byteLength(chunks);
  const handle = await open(path, 'w');
  try {
    const { bytesWritten } = await handle.writev(chunks);
    if (bytesWritten !== expected) {
      throw new Error(`short write to ${path}: ${bytesWritten} of ${expected} bytes`);
    }
  } finally {
    await handle.close();
  }
  return expected;
}
