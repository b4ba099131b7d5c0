import { encodeText, ENCODABLE_CHARACTER_SETS, type EncodableCharacterSet } from './character-sets';
import {
  CHARSET_TEXT_VRS,
  LONG_LENGTH_VRS,
  VALUE_REPRESENTATIONS,
  type ValueRepresentation,
} from './dicom-element';
import type { DicomJson, DicomJsonAttribute, DicomJsonPersonName, DicomJsonValue } from './dicom-json';
import type { EncodableElement } from './dataset-encoder';
import { ATTRIBUTES_BY_TAG } from './dictionary';
import { hexTag } from './element-header';

/** A DICOM JSON data set that cannot be written as DICOM; `attribute` names where, e.g. `(0040,0270)[0] (0010,0010) PatientName`. */
export class DicomJsonEncodeError extends Error {
  override readonly name = 'DicomJsonEncodeError';

  constructor(
    readonly attribute: string,
    problem: string,
  ) {
    super(`${attribute}: ${problem}`);
  }
}

const SPECIFIC_CHARACTER_SET = '00080005';
/** PS3.5 6.2: text VRs of the default repertoire (ASCII) only. */
const ASCII_TEXT = new Set<ValueRepresentation>(['AE', 'AS', 'CS', 'DA', 'DT', 'TM', 'UI', 'UR', 'DS', 'IS']);
/** PS3.5 6.4: one value each; a backslash in them is text, not a delimiter. */
const SINGLE_VALUED = new Set<ValueRepresentation>(['ST', 'LT', 'UT', 'UR']);
const BINARY = new Set<ValueRepresentation>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
/**
 * PS3.5 Table 6.2-1: the longest value of each text VR, in characters (PN: per component group).
 * UC, UR and UT are bounded by their 32-bit length only.
 */
const MAX_CHARACTERS: Readonly<Partial<Record<ValueRepresentation, number>>> = Object.freeze({
  AE: 16,
  AS: 4,
  CS: 16,
  DA: 8,
  DS: 16,
  DT: 26,
  IS: 12,
  LO: 64,
  LT: 10240,
  PN: 64,
  SH: 16,
  ST: 1024,
  TM: 14,
  UI: 64,
});
/** The longest value an element with a 16-bit length can hold, padded to even length (PS3.5 7.1.2). */
const MAX_SHORT_VALUE_BYTES = 0xfffe;

type NumericVr = 'US' | 'SS' | 'UL' | 'SL' | 'FL' | 'FD' | 'SV' | 'UV';

const NUMERIC: Readonly<Record<NumericVr, { size: number; write: (bytes: Buffer, value: number) => void }>> =
  {
    US: { size: 2, write: (bytes, value) => bytes.writeUInt16LE(value) },
    SS: { size: 2, write: (bytes, value) => bytes.writeInt16LE(value) },
    UL: { size: 4, write: (bytes, value) => bytes.writeUInt32LE(value) },
    SL: { size: 4, write: (bytes, value) => bytes.writeInt32LE(value) },
    FL: { size: 4, write: (bytes, value) => bytes.writeFloatLE(value) },
    FD: { size: 8, write: (bytes, value) => bytes.writeDoubleLE(value) },
    SV: { size: 8, write: (bytes, value) => bytes.writeBigInt64LE(BigInt(value)) },
    UV: { size: 8, write: (bytes, value) => bytes.writeBigUInt64LE(BigInt(value)) },
  };

function isNumericVr(vr: ValueRepresentation): vr is NumericVr {
  return vr in NUMERIC;
}

/** The character set a data set declares, for writing: one defined term this library can encode. */
function declaredCharset(attribute: DicomJsonAttribute, where: string): EncodableCharacterSet | undefined {
  const terms = (attribute.Value ?? []).map((value) => (typeof value === 'string' ? value.trim() : value));
  if (terms.length === 0 || (terms.length === 1 && (terms[0] === 'ISO_IR 6' || terms[0] === ''))) {
    return undefined;
  }
  const term = terms[0];
  if (terms.length === 1 && ENCODABLE_CHARACTER_SETS.includes(term as EncodableCharacterSet)) {
    return term as EncodableCharacterSet;
  }
  throw new DicomJsonEncodeError(
    where,
    `Specific Character Set ${terms.map(String).join('\\')} cannot be written by this library (one of ${ENCODABLE_CHARACTER_SETS.join(', ')})`,
  );
}

function personNameText(value: DicomJsonValue, fail: (problem: string) => never): string {
  if (value === null) return '';
  if (typeof value !== 'object' || Array.isArray(value)) {
    fail('a PN value must be an object with Alphabetic, Ideographic or Phonetic (PS3.18 F.2.2)');
  }
  const name = value as DicomJsonPersonName;
  const groups = [name.Alphabetic ?? '', name.Ideographic ?? '', name.Phonetic ?? ''];
  if (groups.some((group) => typeof group !== 'string' || group.includes('='))) {
    fail('a PN component group must be a string without "="');
  }
  return groups.join('=').replace(/=+$/, '');
}

function textOf(vr: ValueRepresentation, value: DicomJsonValue, fail: (problem: string) => never): string {
  if (vr === 'PN') return personNameText(value, fail);
  if (value === null) return '';
  if (typeof value === 'number') {
    if (vr !== 'DS' && vr !== 'IS') fail(`a number is not a value of VR ${vr}`);
    if (vr === 'IS' && !Number.isInteger(value)) fail(`${value} is not an integer (IS)`);
    const text = String(value);
    if (text.length > (vr === 'DS' ? 16 : 12)) fail(`${text} is longer than VR ${vr} allows`);
    return text;
  }
  if (typeof value !== 'string') fail(`a value of VR ${vr} must be a string`);
  return value;
}

function textValue(
  vr: ValueRepresentation,
  values: readonly DicomJsonValue[],
  charset: EncodableCharacterSet | undefined,
  fail: (problem: string) => never,
): Buffer {
  const texts = values.map((value) => textOf(vr, value, fail));
  const max = MAX_CHARACTERS[vr];
  if (max !== undefined) {
    for (const text of texts) {
      // By code point: a limit in characters, whatever bytes the character set gives them.
      const longest = Math.max(...(vr === 'PN' ? text.split('=') : [text]).map((part) => [...part].length));
      if (longest > max) {
        fail(
          `a value of ${longest} characters is longer than VR ${vr} allows (${max}${vr === 'PN' ? ' per component group' : ''})`,
        );
      }
    }
  }
  if (SINGLE_VALUED.has(vr) && texts.length > 1) fail(`VR ${vr} holds one value, not ${texts.length}`);
  if (!SINGLE_VALUED.has(vr) && texts.some((text) => text.includes('\\'))) {
    fail('a value contains a backslash, which separates values (give them as separate values)');
  }
  const text = texts.join('\\');
  if (ASCII_TEXT.has(vr)) {
    if (/[^\u0020-\u007e]/.test(text)) fail(`VR ${vr} holds ASCII only`);
    return Buffer.from(text, 'latin1');
  }
  const encoded = encodeText(text, CHARSET_TEXT_VRS.has(vr) ? charset : undefined);
  if ('unencodable' in encoded) {
    fail(
      charset === undefined
        ? `"${encoded.unencodable}" is not ASCII and the data set declares no Specific Character Set (0008,0005)`
        : `"${encoded.unencodable}" cannot be encoded in ${charset}, the data set's Specific Character Set`,
    );
  }
  return encoded.bytes;
}

function numericValue(
  vr: NumericVr,
  values: readonly DicomJsonValue[],
  fail: (problem: string) => never,
): Buffer {
  const { size, write } = NUMERIC[vr];
  const bytes = Buffer.alloc(size * values.length);
  values.forEach((value, index) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(`a value of VR ${vr} must be a number`);
    try {
      write(bytes.subarray(index * size), value);
    } catch {
      fail(`${value} is out of the range of VR ${vr}`);
    }
  });
  return bytes;
}

function attributeTagValue(values: readonly DicomJsonValue[], fail: (problem: string) => never): Buffer {
  const bytes = Buffer.alloc(4 * values.length);
  values.forEach((value, index) => {
    if (typeof value !== 'string' || !/^[0-9A-Fa-f]{8}$/.test(value))
      fail('an AT value must be 8 hex digits');
    bytes.writeUInt16LE(parseInt(value.slice(0, 4), 16), index * 4);
    bytes.writeUInt16LE(parseInt(value.slice(4), 16), index * 4 + 2);
  });
  return bytes;
}

function elementsOf(
  dataset: DicomJson,
  inherited: EncodableCharacterSet | undefined,
  path: string,
): EncodableElement[] {
  const where = (tag: string): string => {
    const keyword = ATTRIBUTES_BY_TAG.get(tag)?.keyword;
    return `${path}${hexTag(tag)}${keyword === undefined ? '' : ` ${keyword}`}`;
  };
  const own = dataset[SPECIFIC_CHARACTER_SET];
  const charset = own === undefined ? inherited : declaredCharset(own, where(SPECIFIC_CHARACTER_SET));
  return Object.entries(dataset).map(([key, attribute]): EncodableElement => {
    const tag = key.toUpperCase();
    const fail: (problem: string) => never = (problem) => {
      throw new DicomJsonEncodeError(where(tag), problem);
    };
    if (!/^[0-9A-F]{8}$/.test(tag)) fail('not an 8-hex-digit tag');
    if (!VALUE_REPRESENTATIONS.has(attribute.vr)) fail(`unknown VR ${JSON.stringify(attribute.vr)}`);
    const vr = attribute.vr as ValueRepresentation;
    if (attribute.BulkDataURI !== undefined) fail('BulkDataURI values cannot be sent; give InlineBinary');
    const values = attribute.Value ?? [];
    if (vr === 'SQ') {
      const items = values.map((item, index) => {
        if (item === null || typeof item !== 'object' || Array.isArray(item))
          fail(`item ${index} is not a data set`);
        return elementsOf(item as DicomJson, charset, `${where(tag)}[${index}] `);
      });
      return { tag, vr, value: Buffer.alloc(0), items };
    }
    if (BINARY.has(vr)) {
      if (values.length > 0) fail(`VR ${vr} takes InlineBinary (base64), not Value`);
      return { tag, vr, value: Buffer.from(attribute.InlineBinary ?? '', 'base64') };
    }
    const value =
      vr === 'AT'
        ? attributeTagValue(values, fail)
        : isNumericVr(vr)
          ? numericValue(vr, values, fail)
          : textValue(vr, values, charset, fail);
    // Explicit VR gives these VRs a 16-bit length: refused here, naming the attribute, rather
    // than by the encoder once an association is open.
    if (!LONG_LENGTH_VRS.has(vr) && value.length + (value.length % 2) > MAX_SHORT_VALUE_BYTES) {
      fail(
        `the value is ${value.length} bytes, more than an element of VR ${vr} can hold (${MAX_SHORT_VALUE_BYTES})`,
      );
    }
    return { tag, vr, value };
  });
}

/**
 * A DICOM JSON data set (PS3.18 F.2) as DICOM elements: text in the data set's own Specific
 * Character Set (0008,0005), which an item may override (PS3.5 7.5.3), never UTF-8 under a
 * single-byte label (dicom-peers notes, trap 6). Throws DicomJsonEncodeError naming the attribute
 * whose value cannot be written (a character the declared set lacks, a wrong type, BulkDataURI).
 */
export function dicomJsonElements(dataset: DicomJson): EncodableElement[] {
  return elementsOf(dataset, undefined, '');
}
