/**
 * Defined terms of Specific Character Set (0008,0005), PS3.3 C.12.1.1.2: single-byte without code
 * extensions, single-byte with extensions (ISO 2022 IR …), multi-byte with and without extensions.
 */
export const SpecificCharacterSets = [
  'ISO_IR 6',
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
  'ISO_IR 13',
  'ISO_IR 166',
  'ISO 2022 IR 6',
  'ISO 2022 IR 100',
  'ISO 2022 IR 101',
  'ISO 2022 IR 109',
  'ISO 2022 IR 110',
  'ISO 2022 IR 144',
  'ISO 2022 IR 127',
  'ISO 2022 IR 126',
  'ISO 2022 IR 138',
  'ISO 2022 IR 148',
  'ISO 2022 IR 203',
  'ISO 2022 IR 13',
  'ISO 2022 IR 166',
  'ISO 2022 IR 87',
  'ISO 2022 IR 159',
  'ISO 2022 IR 149',
  'ISO 2022 IR 58',
  'ISO_IR 192',
  'GB18030',
  'GBK',
] as const;

export type SpecificCharacterSet = (typeof SpecificCharacterSets)[number];
