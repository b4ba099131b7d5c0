/**
 * Specific Character Set (0008,0005) defined terms (PS3.3 C.12.1.1.2) to text decoders, and the
 * encoders for non-ASCII query values (PS3.5 6.1): one place for every library that reads or
 * writes DICOM text (libs/dimse, libs/store).
 *
 * Node's TextDecoder (full ICU) does the work. ISO_IR 100 is decoded as true ISO 8859-1 (Buffer
 * 'latin1'), not as the WHATWG "latin1" label, which means windows-1252.
 */

const SINGLE_BYTE_LABELS: Readonly<Record<string, string>> = Object.freeze({
  'IR 100': 'latin1',
  'IR 101': 'iso-8859-2',
  'IR 109': 'iso-8859-3',
  'IR 110': 'iso-8859-4',
  'IR 144': 'iso-8859-5',
  'IR 127': 'iso-8859-6',
  'IR 126': 'iso-8859-7',
  'IR 138': 'iso-8859-8',
  'IR 148': 'iso-8859-9',
  'IR 203': 'iso-8859-15',
  'IR 166': 'windows-874',
  'IR 13': 'shift_jis',
});

/** Terms without code extensions (single-valued 0008,0005). */
const TERM_LABELS: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(Object.entries(SINGLE_BYTE_LABELS).map(([ir, label]) => [`ISO_${ir}`, label])),
  'ISO_IR 6': 'ascii',
  'ISO_IR 192': 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
});

/** Terms with code extensions (ISO 2022); a single-valued one behaves as its ISO_IR twin. */
const ISO_2022_LABELS: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(Object.entries(SINGLE_BYTE_LABELS).map(([ir, label]) => [`ISO 2022 ${ir}`, label])),
  'ISO 2022 IR 6': 'ascii',
  'ISO 2022 IR 87': 'iso-2022-jp',
  'ISO 2022 IR 159': 'iso-2022-jp',
  'ISO 2022 IR 149': 'euc-kr',
  'ISO 2022 IR 58': 'gbk',
});

export type TextDecode = (bytes: Buffer) => string;

const decoders = new Map<string, TextDecode>();

function decoderForLabel(label: string): TextDecode {
  let decode = decoders.get(label);
  if (decode === undefined) {
    if (label === 'latin1' || label === 'ascii') {
      decode = (bytes) => bytes.toString('latin1');
    } else {
      const decoder = new TextDecoder(label);
      decode = (bytes) => decoder.decode(bytes);
    }
    decoders.set(label, decode);
  }
  return decode;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * For text that arrives without a declared character set and is not ASCII: UTF-8 when the bytes are
 * valid UTF-8 (ASCII is), else ISO 8859-1, which never fails. A configured fallback replaces this guess.
 */
export const guessUndeclared: TextDecode = (bytes) => {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
};

/** Removes ISO 2022 escape sequences (ESC, intermediates 0x20-0x2F, a final byte 0x30-0x7E). */
function stripEscapeSequences(bytes: Buffer): Buffer {
  if (!bytes.includes(0x1b)) return bytes;
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x1b) {
      out.push(bytes[i]);
      continue;
    }
    i++;
    while (i < bytes.length && bytes[i] >= 0x20 && bytes[i] <= 0x2f) i++;
  }
  return Buffer.from(out);
}

export interface CharacterSetDecoder {
  decode: TextDecode;
  /** false when (0008,0005) named a term this library does not know: the fallback decoded instead */
  supported: boolean;
}

function isAscii(bytes: Buffer): boolean {
  return bytes.every((byte) => byte < 0x80);
}

/** Whether a term can be used as the fallback for responses that do not declare their set. */
export function isKnownCharacterSet(term: string): boolean {
  return term in TERM_LABELS || term in ISO_2022_LABELS;
}

/**
 * The decoder for text of a dataset whose (0008,0005) holds `values` (undefined: absent).
 * `fallback` (a defined term) decodes non-ASCII text when the set is absent or the default
 * repertoire, or names a term this library does not know.
 */
export function characterSetDecoder(
  values: readonly string[] | undefined,
  fallback: string | undefined,
): CharacterSetDecoder {
  const fallbackDecode: TextDecode =
    fallback === undefined ? guessUndeclared : characterSetDecoder([fallback], undefined).decode;
  // ISO 2022 text (IR 87) is 7-bit: its escape sequences are what the fallback must see.
  const undeclared: TextDecode = (bytes) =>
    isAscii(bytes) && !bytes.includes(0x1b) ? bytes.toString('latin1') : fallbackDecode(bytes);
  const terms = (values ?? []).map((value) => value.trim());
  const extensions = terms.filter((term) => term !== '');
  if (
    extensions.length === 0 ||
    (terms.length === 1 && (terms[0] === 'ISO_IR 6' || terms[0] === 'ISO 2022 IR 6'))
  ) {
    return { decode: undeclared, supported: true };
  }
  if (terms.length === 1) {
    const label = TERM_LABELS[terms[0]] ?? ISO_2022_LABELS[terms[0]];
    return label === undefined
      ? { decode: undeclared, supported: false }
      : { decode: label === 'ascii' ? undeclared : decoderForLabel(label), supported: true };
  }
  // Code extensions (PS3.5 6.1.2.5): several sets switched by escape sequences inside the values.
  if (extensions.some((term) => ISO_2022_LABELS[term] === 'iso-2022-jp')) {
    return { decode: decoderForLabel('iso-2022-jp'), supported: true };
  }
  const g1 = extensions
    .map((term) => ISO_2022_LABELS[term])
    .find((label) => label !== undefined && label !== 'ascii');
  if (g1 === undefined || extensions.some((term) => ISO_2022_LABELS[term] === undefined)) {
    return { decode: undeclared, supported: false };
  }
  const decode = decoderForLabel(g1);
  return { decode: (bytes) => decode(stripEscapeSequences(bytes)), supported: true };
}

/**
 * Whether decoded text shows that its bytes were not text of the set they were decoded by: the
 * replacement character (a byte sequence the set does not define) or a control character no DICOM
 * text value holds (C0 other than TAB, LF, FF and CR, which LT/ST/UT may hold; an ESC left over
 * from ISO 2022 text read as a single-byte set; DEL; C1, e.g. UTF-8 bytes read as ISO 8859).
 */
export function isUndecodedText(text: string): boolean {
  return /[\uFFFD\u0000-\u0008\u000B\u000E-\u001F\u007F-\u009F]/.test(text);
}

/** Character sets this library can encode query values in. */
export const ENCODABLE_CHARACTER_SETS = [
  'ISO_IR 192',
  'ISO_IR 100',
  'ISO_IR 101',
  'ISO_IR 109',
  'ISO_IR 110',
  'ISO_IR 144',
  'ISO_IR 127',
  'ISO_IR 126',
  'ISO_IR 138',
  'ISO_IR 148',
  'ISO_IR 203',
  'ISO_IR 166',
] as const;

export type EncodableCharacterSet = (typeof ENCODABLE_CHARACTER_SETS)[number];

const encodeTables = new Map<string, ReadonlyMap<string, number>>();

function encodeTable(term: string): ReadonlyMap<string, number> {
  let table = encodeTables.get(term);
  if (table === undefined) {
    const decode = decoderForLabel(TERM_LABELS[term]);
    const map = new Map<string, number>();
    for (let byte = 0x80; byte <= 0xff; byte++) {
      const char = decode(Buffer.from([byte]));
      if (char !== '\uFFFD' && !map.has(char)) map.set(char, byte);
    }
    table = map;
    encodeTables.set(term, table);
  }
  return table;
}

/**
 * Encodes text in `term` (undefined: the default repertoire, ASCII). Returns the first character
 * the set cannot carry instead of throwing, so the caller can say which value is at fault.
 */
export function encodeText(
  text: string,
  term: EncodableCharacterSet | undefined,
): { bytes: Buffer } | { unencodable: string } {
  if (term === 'ISO_IR 192') return { bytes: Buffer.from(text, 'utf8') };
  const table = term === undefined ? undefined : encodeTable(term);
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const byte = code < 0x80 ? code : table?.get(char);
    if (byte === undefined) return { unencodable: char };
    bytes.push(byte);
  }
  return { bytes: Buffer.from(bytes) };
}
