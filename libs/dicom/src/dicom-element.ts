/** PS3.5 6.2: the value representations of the standard's current edition. */
export type ValueRepresentation =
  | 'AE'
  | 'AS'
  | 'AT'
  | 'CS'
  | 'DA'
  | 'DS'
  | 'DT'
  | 'FD'
  | 'FL'
  | 'IS'
  | 'LO'
  | 'LT'
  | 'OB'
  | 'OD'
  | 'OF'
  | 'OL'
  | 'OV'
  | 'OW'
  | 'PN'
  | 'SH'
  | 'SL'
  | 'SQ'
  | 'SS'
  | 'ST'
  | 'SV'
  | 'TM'
  | 'UC'
  | 'UI'
  | 'UL'
  | 'UN'
  | 'UR'
  | 'US'
  | 'UT'
  | 'UV';

export const VALUE_REPRESENTATIONS: ReadonlySet<string> = new Set<ValueRepresentation>([
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FD',
  'FL',
  'IS',
  'LO',
  'LT',
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'PN',
  'SH',
  'SL',
  'SQ',
  'SS',
  'ST',
  'SV',
  'TM',
  'UC',
  'UI',
  'UL',
  'UN',
  'UR',
  'US',
  'UT',
  'UV',
]);

/** A long VR's explicit header has 2 reserved bytes and a 32-bit length (PS3.5 7.1.2). */
export const LONG_LENGTH_VRS: ReadonlySet<string> = new Set<ValueRepresentation>([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);

/**
 * PS3.5 6.1.2.3: the VRs whose text is in the data set's Specific Character Set; every other text VR
 * holds the default repertoire (ASCII) only.
 */
export const CHARSET_TEXT_VRS: ReadonlySet<string> = new Set<ValueRepresentation>([
  'SH',
  'LO',
  'ST',
  'LT',
  'UT',
  'PN',
  'UC',
]);

/** One element as read from a data set: the value's bytes undecoded, a sequence's items parsed. */
export interface DicomElement {
  /** 8 upper-case hex digits, group then element (the DICOM JSON key) */
  tag: string;
  vr: ValueRepresentation;
  value: Buffer;
  items?: DicomElement[][];
}
