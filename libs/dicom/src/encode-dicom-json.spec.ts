import { parseDataset } from './dataset-parser';
import type { DicomJson } from './dicom-json';
import { encodeDataset } from './dataset-encoder';
import { DicomJsonEncodeError, dicomJsonElements } from './encode-dicom-json';
import { toDicomJson } from './to-dicom-json';

// Expected bytes are written out here by hand (PS3.5 7.1, 7.5), not by the encoder under test.
const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))),
  );

/** A PS3.4 F.7.2 N-CREATE-like data set: a sequence with items, names and text in `charset`. */
function mppsLike(charset: string, patientName: string, codeMeaning: string): DicomJson {
  return {
    '00080005': { vr: 'CS', Value: [charset] },
    '00081032': {
      vr: 'SQ',
      Value: [
        {
          '00080100': { vr: 'SH', Value: ['CT-CHEST'] },
          '00080102': { vr: 'SH', Value: ['99LOCAL'] },
          '00080104': { vr: 'LO', Value: [codeMeaning] },
        },
        { '00080100': { vr: 'SH', Value: ['CT-ABD'] } },
      ],
    },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: patientName }] },
    '00100020': { vr: 'LO', Value: ['PID-1'] },
    '00101030': { vr: 'DS', Value: [70.5] },
    '00280010': { vr: 'US', Value: [512] },
  };
}

const encodeDicomJson = (dataset: DicomJson, explicitVr: boolean): Buffer =>
  encodeDataset(dicomJsonElements(dataset), explicitVr);

describe('dicomJsonElements and encodeDataset: sequences and character sets (trap 6)', () => {
  it.each([
    ['Explicit VR', true],
    ['Implicit VR', false],
  ])('round-trips a data set with a sequence through the parser (%s)', (_, explicitVr) => {
    const dataset = mppsLike('ISO_IR 100', 'Müller^Jürgen', 'Thorax ärztlich');
    const decoded = toDicomJson(parseDataset(encodeDicomJson(dataset, explicitVr), explicitVr));
    expect(decoded['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Müller^Jürgen' }] });
    expect(decoded['00081032']).toEqual(dataset['00081032']);
    expect(decoded['00100020']).toEqual(dataset['00100020']);
    if (explicitVr) {
      // Implicit VR: the parser knows neither tag, so it reads them as UN
      expect(decoded['00101030']).toEqual({ vr: 'DS', Value: [70.5] });
      expect(decoded['00280010']).toEqual({ vr: 'US', Value: [512] });
    }
  });

  it('writes ISO_IR 100 text as ISO 8859-1 bytes, never UTF-8 under the label', () => {
    const encoded = encodeDicomJson(
      {
        '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller' }] },
      },
      true,
    );
    expect(encoded).toEqual(
      bytes(
        [0x08, 0x00, 0x05, 0x00],
        'CS',
        [0x0a, 0x00],
        'ISO_IR 100',
        [0x10, 0x00, 0x10, 0x00],
        'PN',
        [0x06, 0x00],
        [0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72], // M ü l l e r: ü is 0xFC, not 0xC3 0xBC
      ),
    );
  });

  it('writes ISO_IR 192 text as UTF-8, padded to even length with a space', () => {
    const encoded = encodeDicomJson(
      {
        '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller' }] },
      },
      false,
    );
    expect(encoded.subarray(18)).toEqual(
      bytes([0x10, 0x00, 0x10, 0x00, 0x08, 0x00, 0x00, 0x00], 'M', [0xc3, 0xbc], 'ller '),
    );
  });

  it('frames a sequence and its items with defined lengths, in Explicit and Implicit VR', () => {
    const dataset: DicomJson = {
      '00400270': { vr: 'SQ', Value: [{ '00080050': { vr: 'SH', Value: ['A1'] } }, {}] },
    };
    const element = bytes([0x08, 0x00, 0x50, 0x00], 'SH', [0x02, 0x00], 'A1');
    expect(encodeDicomJson(dataset, true)).toEqual(
      bytes(
        [0x40, 0x00, 0x70, 0x02],
        'SQ',
        [0x00, 0x00, 0x1a, 0x00, 0x00, 0x00], // reserved, length 26
        [0xfe, 0xff, 0x00, 0xe0, 0x0a, 0x00, 0x00, 0x00], // item of 10 bytes
        [...element],
        [0xfe, 0xff, 0x00, 0xe0, 0x00, 0x00, 0x00, 0x00], // empty item
      ),
    );
    expect(encodeDicomJson(dataset, false)).toEqual(
      bytes(
        [0x40, 0x00, 0x70, 0x02, 0x1a, 0x00, 0x00, 0x00],
        [0xfe, 0xff, 0x00, 0xe0, 0x0a, 0x00, 0x00, 0x00],
        [0x08, 0x00, 0x50, 0x00, 0x02, 0x00, 0x00, 0x00],
        'A1',
        [0xfe, 0xff, 0x00, 0xe0, 0x00, 0x00, 0x00, 0x00],
      ),
    );
  });

  it("encodes an item by its own (0008,0005), its children too, and the rest by the data set's", () => {
    const dataset: DicomJson = {
      '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
      '00081032': {
        vr: 'SQ',
        Value: [
          {
            '00080005': { vr: 'CS', Value: ['ISO_IR 144'] },
            '00080104': { vr: 'LO', Value: ['Рентген'] },
          },
        ],
      },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller' }] },
    };
    const elements = dicomJsonElements(dataset);
    const item = elements.find((element) => element.tag === '00081032')?.items?.[0];
    expect(item?.find((element) => element.tag === '00080104')?.value).toEqual(
      Buffer.from([0xc0, 0xd5, 0xdd, 0xe2, 0xd3, 0xd5, 0xdd]),
    );
    const decoded = toDicomJson(parseDataset(encodeDicomJson(dataset, true), true));
    expect((decoded['00081032'].Value as DicomJson[])[0]['00080104'].Value).toEqual(['Рентген']);
    expect(decoded['00100010'].Value).toEqual([{ Alphabetic: 'Müller' }]);
  });

  it('writes the three PN component groups, multiple values, numbers, AT and binary values', () => {
    const elements = dicomJsonElements({
      '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
      '00080008': { vr: 'CS', Value: ['ORIGINAL', 'PRIMARY'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }] },
      '00200013': { vr: 'IS', Value: [7] },
      '00209165': { vr: 'AT', Value: ['0020000D'] },
      '00280010': { vr: 'US', Value: [1, 2] },
      '7FE00010': { vr: 'OB', InlineBinary: Buffer.from([1, 2, 3]).toString('base64') },
    });
    const value = (tag: string): Buffer | undefined => elements.find((element) => element.tag === tag)?.value;
    expect(value('00080008')?.toString('latin1')).toBe('ORIGINAL\\PRIMARY');
    expect(value('00100010')?.toString('utf8')).toBe('Yamada^Tarou=山田^太郎');
    expect(value('00200013')?.toString('latin1')).toBe('7');
    expect(value('00209165')).toEqual(Buffer.from([0x20, 0x00, 0x0d, 0x00]));
    expect(value('00280010')).toEqual(Buffer.from([1, 0, 2, 0]));
    expect(value('7FE00010')).toEqual(Buffer.from([1, 2, 3]));
  });
});

describe('dicomJsonElements: what it refuses, naming the attribute', () => {
  const refusal = (dataset: DicomJson): string => {
    try {
      encodeDicomJson(dataset, true);
    } catch (error) {
      if (error instanceof DicomJsonEncodeError) return error.message;
      throw error;
    }
    throw new Error('no DicomJsonEncodeError');
  };

  it.each<[string, DicomJson, string]>([
    [
      'a Cyrillic name under ISO_IR 100',
      {
        '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Иванов' }] },
      },
      '(0010,0010) PatientName: "И" cannot be encoded in ISO_IR 100, the data set\'s Specific Character Set',
    ],
    [
      'non-ASCII text without a declared set',
      { '00081032': { vr: 'SQ', Value: [{ '00080104': { vr: 'LO', Value: ['Röntgen'] } }] } },
      '(0008,1032) ProcedureCodeSequence[0] (0008,0104) CodeMeaning: "ö" is not ASCII and the data set declares no Specific Character Set (0008,0005)',
    ],
    [
      'a set with code extensions',
      { '00080005': { vr: 'CS', Value: ['', 'ISO 2022 IR 87'] } },
      '(0008,0005) SpecificCharacterSet: Specific Character Set \\ISO 2022 IR 87 cannot be written by this library',
    ],
    [
      'non-ASCII in a code string',
      { '00080005': { vr: 'CS', Value: ['ISO_IR 192'] }, '00080060': { vr: 'CS', Value: ['CTé'] } },
      '(0008,0060) Modality: VR CS holds ASCII only',
    ],
    [
      'a backslash inside one value',
      { '00100020': { vr: 'LO', Value: ['A\\B'] } },
      '(0010,0020) PatientID: a value contains a backslash',
    ],
    [
      'a PN given as a string',
      { '00100010': { vr: 'PN', Value: ['Doe^John'] } },
      '(0010,0010) PatientName: a PN value must be an object',
    ],
    [
      'a BulkDataURI',
      { '7FE00010': { vr: 'OB', BulkDataURI: 'http://x/1' } },
      '(7FE0,0010): BulkDataURI values cannot be sent',
    ],
    [
      'a LO value longer than 64 characters',
      { '00100020': { vr: 'LO', Value: ['ID', 'X'.repeat(65)] } },
      '(0010,0020) PatientID: a value of 65 characters is longer than VR LO allows (64)',
    ],
    [
      'a PN component group longer than 64 characters',
      { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe', Ideographic: 'D'.repeat(65) }] } },
      '(0010,0010) PatientName: a value of 65 characters is longer than VR PN allows (64 per component group)',
    ],
    [
      'a CS value longer than 16 characters',
      { '00080060': { vr: 'CS', Value: ['CT_AND_MR_AND_PET'] } },
      '(0008,0060) Modality: a value of 17 characters is longer than VR CS allows (16)',
    ],
    [
      'a UI value longer than 64 characters',
      { '00080018': { vr: 'UI', Value: [`1.${'2'.repeat(64)}`] } },
      '(0008,0018) SOPInstanceUID: a value of 66 characters is longer than VR UI allows (64)',
    ],
    [
      'an IS given as a string of 13 digits',
      { '00201208': { vr: 'IS', Value: ['1234567890123'] } },
      '(0020,1208) NumberOfStudyRelatedInstances: a value of 13 characters is longer than VR IS allows (12)',
    ],
    [
      'values too many for the 16-bit length of a CS element',
      { '00080008': { vr: 'CS', Value: Array.from({ length: 5000 }, () => 'ABCDEFGHIJKLMNOP') } },
      '(0008,0008) ImageType: the value is 84999 bytes, more than an element of VR CS can hold (65534)',
    ],
    [
      'values too many for the 16-bit length of a US element',
      { '00280010': { vr: 'US', Value: Array.from({ length: 40000 }, () => 1) } },
      '(0028,0010) Rows: the value is 80000 bytes, more than an element of VR US can hold (65534)',
    ],
    [
      'a US out of range',
      { '00280010': { vr: 'US', Value: [70000] } },
      '(0028,0010) Rows: 70000 is out of the range of VR US',
    ],
  ])('%s', (_, dataset, message) => {
    expect(refusal(dataset)).toContain(message);
  });
});
