/**
 * Specific Character Set (0008,0005) values the generators can encode. `undefined` means the
 * attribute is absent: the default repertoire, ASCII only (PS3.5 6.1.2.1).
 */
export type SpecificCharacterSet = 'ISO_IR 192' | 'ISO_IR 144' | 'ISO_IR 100';

const SUPPORTED: readonly string[] = [
  'ISO_IR 192',
  'ISO_IR 144',
  'ISO_IR 100',
] satisfies SpecificCharacterSet[];

/** Narrows a (0008,0005) value; ISO 2022 code extensions (multi-valued) are not supported here. */
export function toSpecificCharacterSet(value: unknown): SpecificCharacterSet {
  const text = Array.isArray(value) && value.length === 1 ? String(value[0]) : String(value);
  if (!SUPPORTED.includes(text)) throw new Error(`unsupported Specific Character Set "${text}"`);
  return text as SpecificCharacterSet;
}

/** ISO-8859-5 (ISO-IR 144 in G1, PS3.3 C.12.1.1.2) by formula: Cyrillic U+0401..U+045F sits at 0xA1..0xFF
 * except where the code page keeps SHY, № and §. */
function iso8859_5Byte(codePoint: number): number | undefined {
  switch (codePoint) {
    case 0x00a0:
    case 0x00ad:
      return codePoint;
    case 0x2116:
      return 0xf0;
    case 0x00a7:
      return 0xfd;
    case 0x040d:
    case 0x0450:
    case 0x045d:
      return undefined;
    default:
      return codePoint >= 0x0401 && codePoint <= 0x045f ? codePoint - 0x0360 : undefined;
  }
}

function latin1Byte(codePoint: number): number | undefined {
  return codePoint >= 0xa0 && codePoint <= 0xff ? codePoint : undefined;
}

/** Encodes a text value for a dataset declaring `charset`; throws on a character the set cannot carry. */
export function encodeText(text: string, charset: SpecificCharacterSet | undefined): Buffer {
  if (charset === 'ISO_IR 192') return Buffer.from(text, 'utf8');
  const highByte =
    charset === 'ISO_IR 144' ? iso8859_5Byte : charset === 'ISO_IR 100' ? latin1Byte : undefined;
  const bytes: number[] = [];
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    const byte = codePoint < 0x80 ? codePoint : highByte?.(codePoint);
    if (byte === undefined) {
      throw new Error(
        `"${char}" in "${text}" cannot be encoded in ${charset ?? 'the default repertoire (ASCII)'}`,
      );
    }
    bytes.push(byte);
  }
  return Buffer.from(bytes);
}
