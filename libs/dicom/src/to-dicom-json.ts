import { characterSetDecoder, isUndecodedText, type CharacterSetDecoder } from './character-sets';
import { CHARSET_TEXT_VRS, type DicomElement, type ValueRepresentation } from './dicom-element';
import { tagKey } from './element-header';
import type { DicomJson, DicomJsonPersonName, DicomJsonValue } from './dicom-json';

export interface DicomJsonOptions {
  /** decodes text of data sets that do not declare (0008,0005), or declare a set this library does not know */
  fallbackCharset?: string;
  /** told once per data set whose (0008,0005) names an unknown set */
  onUnsupportedCharset?(terms: readonly string[]): void;
  /**
   * told of each text value whose bytes are not text of the set that decoded them (isUndecodedText):
   * its tag path from the top data set (a sequence's tag, then the tag inside its item). The value
   * stays in the JSON as decoded, replacement characters included; the caller says so to the user.
   */
  onUndecodable?(path: readonly string[]): void;
}

const SPECIFIC_CHARACTER_SET = '00080005';

const ASCII_TEXT = new Set<ValueRepresentation>(['AE', 'AS', 'CS', 'DA', 'DT', 'TM', 'UI', 'UR', 'DS', 'IS']);
/** PS3.5 6.4: these hold one value; a backslash in them is text, not a delimiter. */
const SINGLE_VALUED = new Set<ValueRepresentation>(['ST', 'LT', 'UT', 'UR']);
/** PS3.5 Table 6.2-1: only trailing spaces are insignificant. */
const TRAILING_ONLY = new Set<ValueRepresentation>(['ST', 'LT', 'UT', 'UC', 'UR', 'PN']);

type NumericVr = 'US' | 'SS' | 'UL' | 'SL' | 'FL' | 'FD' | 'SV' | 'UV' | 'AT';

const NUMERIC_SIZES: Readonly<Record<NumericVr, number>> = {
  US: 2,
  SS: 2,
  UL: 4,
  SL: 4,
  FL: 4,
  FD: 8,
  SV: 8,
  UV: 8,
  AT: 4,
};

function isNumericVr(vr: ValueRepresentation): vr is NumericVr {
  return vr in NUMERIC_SIZES;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function trimValue(vr: ValueRepresentation, text: string): string {
  // Some peers pad with NUL where PS3.5 says space; UIDs are padded with NUL by the standard.
  const withoutNul = text.replace(/\0+$/, '');
  return TRAILING_ONLY.has(vr) ? withoutNul.replace(/ +$/, '') : withoutNul.trim();
}

function personName(text: string): DicomJsonPersonName | null {
  const [alphabetic, ideographic, phonetic] = text.split('=').map((group) => group.replace(/ +$/, ''));
  const name: DicomJsonPersonName = {};
  if (alphabetic) name.Alphabetic = alphabetic;
  if (ideographic) name.Ideographic = ideographic;
  if (phonetic) name.Phonetic = phonetic;
  return Object.keys(name).length === 0 ? null : name;
}

function textValues(vr: ValueRepresentation, text: string): DicomJsonValue[] | undefined {
  const parts = SINGLE_VALUED.has(vr) ? [text] : text.split('\\');
  const values = parts.map((part): DicomJsonValue => {
    const trimmed = trimValue(vr, part);
    if (trimmed === '') return null;
    if (vr === 'PN') return personName(trimmed);
    if ((vr === 'DS' || vr === 'IS') && NUMBER.test(trimmed)) return Number(trimmed);
    return trimmed;
  });
  return values.length === 1 && values[0] === null ? undefined : values;
}

function numericValues(vr: NumericVr, value: Buffer): DicomJsonValue[] {
  const size = NUMERIC_SIZES[vr];
  const values: DicomJsonValue[] = [];
  for (let offset = 0; offset + size <= value.length; offset += size) {
    switch (vr) {
      case 'US':
        values.push(value.readUInt16LE(offset));
        break;
      case 'SS':
        values.push(value.readInt16LE(offset));
        break;
      case 'UL':
        values.push(value.readUInt32LE(offset));
        break;
      case 'SL':
        values.push(value.readInt32LE(offset));
        break;
      case 'FL':
        values.push(value.readFloatLE(offset));
        break;
      case 'FD':
        values.push(value.readDoubleLE(offset));
        break;
      case 'SV':
      case 'UV': {
        const big = vr === 'SV' ? value.readBigInt64LE(offset) : value.readBigUInt64LE(offset);
        const small = Number(big);
        values.push(Number.isSafeInteger(small) ? small : big.toString());
        break;
      }
      case 'AT':
        values.push(tagKey(((value.readUInt16LE(offset) << 16) | value.readUInt16LE(offset + 2)) >>> 0));
        break;
    }
  }
  return values;
}

function specificCharacterSetOf(elements: readonly DicomElement[]): string[] | undefined {
  const element = elements.find((candidate) => candidate.tag === SPECIFIC_CHARACTER_SET);
  // PS3.5 6.1.2.5.3: the first value may be empty (default repertoire in G0); keep it positional.
  return element === undefined
    ? undefined
    : element.value
        .toString('latin1')
        .replace(/[\0 ]+$/, '')
        .split('\\');
}

/**
 * Converts a parsed data set to DICOM JSON, decoding text by the data set's own Specific Character
 * Set. A sequence item uses the set of its own (0008,0005) if it has one, else the set of the data
 * set that contains it (PS3.5 7.5.3). Because the bytes are parsed by this project (libs/dimse), not by dcmjs,
 * text inside items is never forced to Latin-1 (dicom-peers notes, trap 5).
 *
 * The text becomes Unicode, so a present (0008,0005) is reported as `ISO_IR 192`: writing this JSON
 * back to DICOM must not label UTF-8 text with the original single-byte set (trap 6).
 */
export function toDicomJson(
  elements: readonly DicomElement[],
  options: DicomJsonOptions = {},
  inherited?: CharacterSetDecoder,
  parentPath: readonly string[] = [],
): DicomJson {
  const terms = specificCharacterSetOf(elements);
  let charset: CharacterSetDecoder;
  if (terms !== undefined) {
    charset = characterSetDecoder(terms, options.fallbackCharset);
    if (!charset.supported) options.onUnsupportedCharset?.(terms);
  } else {
    charset = inherited ?? characterSetDecoder(undefined, options.fallbackCharset);
  }

  const json: DicomJson = {};
  for (const element of elements) {
    const { tag, vr, value } = element;
    if (tag === SPECIFIC_CHARACTER_SET) {
      json[tag] = terms?.some((term) => term !== '') ? { vr: 'CS', Value: ['ISO_IR 192'] } : { vr: 'CS' };
      continue;
    }
    let values: DicomJsonValue[] | undefined;
    let inlineBinary: string | undefined;
    if (vr === 'SQ') {
      const path = [...parentPath, tag];
      const items = (element.items ?? []).map((item) => toDicomJson(item, options, charset, path));
      values = items.length === 0 ? undefined : items;
    } else if (CHARSET_TEXT_VRS.has(vr)) {
      const text = value.length === 0 ? '' : charset.decode(value);
      if (isUndecodedText(text)) options.onUndecodable?.([...parentPath, tag]);
      values = value.length === 0 ? undefined : textValues(vr, text);
    } else if (ASCII_TEXT.has(vr)) {
      values = value.length === 0 ? undefined : textValues(vr, value.toString('latin1'));
    } else if (isNumericVr(vr)) {
      const numbers = numericValues(vr, value);
      values = numbers.length === 0 ? undefined : numbers;
    } else {
      // OB, OD, OF, OL, OV, OW, UN
      inlineBinary = value.length === 0 ? undefined : value.toString('base64');
    }
    json[tag] = {
      vr,
      ...(values === undefined ? {} : { Value: values }),
      ...(inlineBinary === undefined ? {} : { InlineBinary: inlineBinary }),
    };
  }
  return json;
}
