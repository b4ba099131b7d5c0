import { DatasetParseError, parseDataset } from './dataset-parser';
import { toDicomJson, type DicomJsonOptions } from './to-dicom-json';
import type { DicomJson } from './dicom-json';

// Data sets written byte by byte here (not by the encoder under test), then parsed and converted.

const UNDEFINED = 0xffffffff;
const LONG = new Set(['OB', 'OW', 'SQ', 'UN', 'UT', 'UC', 'UR']);

function tagBytes(tag: string): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt16LE(parseInt(tag.slice(0, 4), 16), 0);
  bytes.writeUInt16LE(parseInt(tag.slice(4), 16), 2);
  return bytes;
}

const u32 = (value: number): Buffer => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value, 0);
  return bytes;
};

const even = (value: Buffer, pad = 0x20): Buffer =>
  value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from([pad])]);

/** Explicit VR Little Endian element. */
function ex(tag: string, vr: string, value: Buffer | string, length?: number): Buffer {
  const raw = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const body = vr === 'SQ' || length === UNDEFINED ? raw : even(raw, vr === 'UI' || vr === 'OB' ? 0 : 0x20);
  if (LONG.has(vr)) {
    return Buffer.concat([
      tagBytes(tag),
      Buffer.from(vr, 'latin1'),
      Buffer.alloc(2),
      u32(length ?? body.length),
      body,
    ]);
  }
  const len = Buffer.alloc(2);
  len.writeUInt16LE(body.length, 0);
  return Buffer.concat([tagBytes(tag), Buffer.from(vr, 'latin1'), len, body]);
}

/** Implicit VR Little Endian element. */
function im(tag: string, value: Buffer | string, length?: number): Buffer {
  const raw = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const body = length === UNDEFINED ? raw : even(raw);
  return Buffer.concat([tagBytes(tag), u32(length ?? body.length), body]);
}

function item(content: Buffer, undefinedLength = false): Buffer {
  return undefinedLength
    ? Buffer.concat([tagBytes('FFFEE000'), u32(UNDEFINED), content, tagBytes('FFFEE00D'), u32(0)])
    : Buffer.concat([tagBytes('FFFEE000'), u32(content.length), content]);
}

const sequenceEnd = Buffer.concat([tagBytes('FFFEE0DD'), u32(0)]);
const iso8859_5 = (text: string): Buffer =>
  Buffer.from(
    [...text].map((char) => (char.charCodeAt(0) < 0x80 ? char.charCodeAt(0) : char.charCodeAt(0) - 0x360)),
  );

function json(bytes: Buffer, explicit: boolean, options?: DicomJsonOptions): DicomJson {
  return toDicomJson(parseDataset(bytes, explicit), options);
}

describe('character sets', () => {
  it('decodes top-level text by the data set own set (ISO_IR 144)', () => {
    const result = json(
      Buffer.concat([
        ex('00080005', 'CS', 'ISO_IR 144'),
        ex('00081030', 'LO', iso8859_5('КТ грудной клетки')),
        ex('00100010', 'PN', iso8859_5('Иванов^Иван')),
      ]),
      true,
    );
    expect(result['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Иванов^Иван' }] });
    expect(result['00081030'].Value).toEqual(['КТ грудной клетки']);
    // the text is Unicode now (trap 6): never labelled with the single-byte set again
    expect(result['00080005']).toEqual({ vr: 'CS', Value: ['ISO_IR 192'] });
  });

  it('decodes text inside sequence items by the enclosing set (trap 5: dcmjs would read Latin-1)', () => {
    const inner = Buffer.concat([ex('00080100', 'SH', 'X1'), ex('00080104', 'LO', iso8859_5('Рентген'))]);
    const result = json(
      Buffer.concat([
        ex('00080005', 'CS', 'ISO_IR 144'),
        ex('00081032', 'SQ', Buffer.concat([item(inner), item(inner, true)]), UNDEFINED),
        sequenceEnd,
      ]),
      true,
    );
    const items = result['00081032'].Value as DicomJson[];
    expect(items).toHaveLength(2);
    expect(items.map((i) => i['00080104'].Value)).toEqual([['Рентген'], ['Рентген']]);
  });

  it("uses an item's own (0008,0005) for that item and its children (PS3.5 7.5.3)", () => {
    const inner = Buffer.concat([
      ex('00080005', 'CS', 'ISO_IR 100'),
      ex('00080104', 'LO', Buffer.from('Röntgen', 'latin1')),
    ]);
    const result = json(
      Buffer.concat([ex('00080005', 'CS', 'ISO_IR 144'), ex('00081032', 'SQ', item(inner))]),
      true,
    );
    expect((result['00081032'].Value as DicomJson[])[0]['00080104'].Value).toEqual(['Röntgen']);
  });

  it('decodes ISO_IR 100 and ISO_IR 192', () => {
    expect(
      json(
        Buffer.concat([
          ex('00080005', 'CS', 'ISO_IR 100'),
          ex('00100010', 'PN', Buffer.from('Müller^Jürgen', 'latin1')),
        ]),
        true,
      )['00100010'].Value,
    ).toEqual([{ Alphabetic: 'Müller^Jürgen' }]);
    expect(
      json(
        Buffer.concat([
          ex('00080005', 'CS', 'ISO_IR 192'),
          ex('00100010', 'PN', Buffer.from('Петрова^Анна', 'utf8')),
        ]),
        true,
      )['00100010'].Value,
    ).toEqual([{ Alphabetic: 'Петрова^Анна' }]);
  });

  it('undeclared non-ASCII: UTF-8 when valid, else ISO 8859-1, unless a fallback is configured', () => {
    const utf8 = ex('00100010', 'PN', Buffer.from('Петрова^Анна', 'utf8'));
    const cyrillic = ex('00100010', 'PN', iso8859_5('Иванов^Иван'));
    expect(json(utf8, true)['00100010'].Value).toEqual([{ Alphabetic: 'Петрова^Анна' }]);
    expect(
      json(Buffer.from(ex('00100010', 'PN', Buffer.from('Müller', 'latin1'))), true)['00100010'].Value,
    ).toEqual([{ Alphabetic: 'Müller' }]);
    expect(json(cyrillic, true, { fallbackCharset: 'ISO_IR 144' })['00100010'].Value).toEqual([
      { Alphabetic: 'Иванов^Иван' },
    ]);
  });

  it('an unknown set: the fallback decodes, and the caller is told', () => {
    const told: string[][] = [];
    const result = json(
      Buffer.concat([ex('00080005', 'CS', 'ISO_IR 999'), ex('00100010', 'PN', iso8859_5('Иванов'))]),
      true,
      { fallbackCharset: 'ISO_IR 144', onUnsupportedCharset: (terms) => told.push([...terms]) },
    );
    expect(result['00100010'].Value).toEqual([{ Alphabetic: 'Иванов' }]);
    expect(told).toEqual([['ISO_IR 999']]);
  });

  it('ISO 2022 code extensions, Japanese (PS3.5 H.3.1): three component groups', () => {
    const bytes = Buffer.from(
      '59616d6164615e5461726f75' +
        '3d1b24423b3345441b28425e1b244242404f3a1b2842' +
        '3d1b24422464245e24401b28425e1b2442243f246d24261b2842',
      'hex',
    );
    const result = json(
      Buffer.concat([ex('00080005', 'CS', '\\ISO 2022 IR 87'), ex('00100010', 'PN', bytes)]),
      true,
    );
    expect(result['00100010'].Value).toEqual([
      { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' },
    ]);
  });

  it('ISO 2022 code extensions, Korean (PS3.5 I.2): escape sequences removed, EUC-KR', () => {
    const bytes = Buffer.from(
      '486f6e675e47696c646f6e673d1b242943fbf35e1b242943d1ced4d73d1b242943c8ab5e1b242943b1e6b5bf',
      'hex',
    );
    const result = json(
      Buffer.concat([ex('00080005', 'CS', '\\ISO 2022 IR 149'), ex('00100010', 'PN', bytes)]),
      true,
    );
    expect(result['00100010'].Value).toEqual([
      { Alphabetic: 'Hong^Gildong', Ideographic: '洪^吉洞', Phonetic: '홍^길동' },
    ]);
  });
});

describe('values (PS3.18 F.2)', () => {
  const all = Buffer.concat([
    ex('00080008', 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
    ex('00080020', 'DA', ''),
    ex('00080061', 'CS', 'CT\\\\MR'),
    ex('00100010', 'PN', 'Doe^John ^^^ =Ideo= '),
    ex('00101030', 'DS', ' 72.5 \\1e3'),
    ex('00200013', 'IS', '12 '),
    ex('0020000D', 'UI', Buffer.from('1.2.3\0', 'latin1')),
    ex('00280010', 'US', Buffer.from([0x00, 0x02])),
    ex('00209165', 'AT', Buffer.from([0x20, 0x00, 0x0d, 0x00])),
    ex('00091010', 'OB', Buffer.from([1, 2, 3, 4])),
    ex('00104000', 'LT', 'line one\\not a delimiter  '),
  ]);

  it('splits, trims, types', () => {
    const result = json(all, true);
    expect(result['00080008']).toEqual({ vr: 'CS', Value: ['ORIGINAL', 'PRIMARY', 'AXIAL'] });
    expect(result['00080020']).toEqual({ vr: 'DA' });
    expect(result['00080061']).toEqual({ vr: 'CS', Value: ['CT', null, 'MR'] });
    expect(result['00100010']).toEqual({
      vr: 'PN',
      Value: [{ Alphabetic: 'Doe^John ^^^', Ideographic: 'Ideo' }],
    });
    expect(result['00101030']).toEqual({ vr: 'DS', Value: [72.5, 1000] });
    expect(result['00200013']).toEqual({ vr: 'IS', Value: [12] });
    expect(result['0020000D']).toEqual({ vr: 'UI', Value: ['1.2.3'] });
    expect(result['00280010']).toEqual({ vr: 'US', Value: [512] });
    expect(result['00209165']).toEqual({ vr: 'AT', Value: ['0020000D'] });
    expect(result['00091010']).toEqual({ vr: 'OB', InlineBinary: 'AQIDBA==' });
    expect(result['00104000']).toEqual({ vr: 'LT', Value: ['line one\\not a delimiter'] });
  });

  it('reads the same data set in Implicit VR, the VR coming from the dictionary', () => {
    const result = json(
      Buffer.concat([
        im('00080005', 'ISO_IR 144'),
        im('00080052', 'STUDY'),
        im('00100010', iso8859_5('Иванов^Иван ')),
        im('00201208', '7'),
        im('0020000D', Buffer.from('1.2.3\0', 'latin1')),
        im('00111010', 'private!'),
      ]),
      false,
    );
    expect(result['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Иванов^Иван' }] });
    expect(result['00201208']).toEqual({ vr: 'IS', Value: [7] });
    expect(result['00080052']).toEqual({ vr: 'CS', Value: ['STUDY'] });
    expect(result['00111010']).toEqual({
      vr: 'UN',
      InlineBinary: Buffer.from('private!').toString('base64'),
    });
  });

  it('Implicit VR sequences of undefined length, nested, and an undefined-length UN read as a sequence (PS3.5 6.2.2)', () => {
    const nested = im('00400275', Buffer.concat([item(im('00401001', 'RP1'), true), sequenceEnd]), UNDEFINED);
    const result = json(
      Buffer.concat([
        im('00080005', 'ISO_IR 144'),
        im(
          '00081032',
          Buffer.concat([
            item(Buffer.concat([im('00080104', iso8859_5('Рентген')), nested]), true),
            sequenceEnd,
          ]),
          UNDEFINED,
        ),
        im('00091001', Buffer.concat([item(im('00100010', 'A^B')), sequenceEnd]), UNDEFINED),
      ]),
      false,
    );
    const [first] = result['00081032'].Value as DicomJson[];
    expect(first['00080104'].Value).toEqual(['Рентген']);
    expect((first['00400275'].Value as DicomJson[])[0]['00401001'].Value).toEqual(['RP1']);
    expect(result['00091001'].vr).toBe('SQ');
    expect((result['00091001'].Value as DicomJson[])[0]['00100010'].Value).toEqual([{ Alphabetic: 'A^B' }]);
  });

  it('an empty sequence has no Value', () => {
    expect(json(ex('00081032', 'SQ', Buffer.alloc(0)), true)['00081032']).toEqual({ vr: 'SQ' });
  });
});

describe('malformed data sets are errors, not guesses', () => {
  it.each([
    [
      'a truncated value',
      Buffer.concat([tagBytes('00100010'), Buffer.from('PN'), Buffer.from([10, 0]), Buffer.from('abc')]),
    ],
    ['an unknown VR', Buffer.concat([tagBytes('00100010'), Buffer.from('ZZ'), Buffer.from([0, 0])])],
    [
      'a sequence without its delimitation',
      Buffer.concat([ex('00081032', 'SQ', item(ex('00080100', 'SH', 'X')), UNDEFINED)]),
    ],
    ['a stray item tag', Buffer.concat([tagBytes('FFFEE000'), u32(0)])],
  ])('%s', (_name, bytes) => {
    expect(() => parseDataset(bytes, true)).toThrow(DatasetParseError);
  });
});
