import { DimseError, DimseErrorCode } from '../dimse.errors';
import { encodeDataset } from '@pacslink/dicom';
import { buildFindIdentifier, queryKeywords, type FindIdentifierQuery } from './find-identifier';

/** tag → [VR, value as latin1 text] */
function view(query: FindIdentifierQuery): Record<string, [string, string]> {
  return Object.fromEntries(
    buildFindIdentifier(query).map((element) => [
      element.tag,
      [element.vr, element.value.toString('latin1')],
    ]),
  );
}

function problem(query: FindIdentifierQuery): string {
  try {
    buildFindIdentifier(query);
  } catch (error) {
    expect(error).toBeInstanceOf(DimseError);
    expect((error as DimseError).code).toBe(DimseErrorCode.INVALID_REQUEST);
    return (error as DimseError).message;
  }
  throw new Error('expected an INVALID_REQUEST');
}

describe('buildFindIdentifier: only the keys asked for', () => {
  it('STUDY: QueryRetrieveLevel, StudyInstanceUID, the matching and the return keys, nothing else', () => {
    expect(
      view({
        level: 'STUDY',
        keys: { PatientID: 'PL123', StudyDate: '20240101-20240131' },
        returnKeys: ['PatientName'],
      }),
    ).toEqual({
      '00080052': ['CS', 'STUDY'],
      '00080020': ['DA', '20240101-20240131'],
      '00100010': ['PN', ''],
      '00100020': ['LO', 'PL123'],
      '0020000D': ['UI', ''],
    });
  });

  it('no keys: just the level and its unique key (unlike createStudyFindRequest, which adds a dozen)', () => {
    expect(view({ level: 'STUDY', keys: {}, returnKeys: [] })).toEqual({
      '00080052': ['CS', 'STUDY'],
      '0020000D': ['UI', ''],
    });
  });

  it('SERIES and IMAGE: their unique keys; higher-level unique keys as given', () => {
    expect(view({ level: 'SERIES', keys: { StudyInstanceUID: '1.2.3' }, returnKeys: ['Modality'] })).toEqual({
      '00080052': ['CS', 'SERIES'],
      '00080060': ['CS', ''],
      '0020000D': ['UI', '1.2.3'],
      '0020000E': ['UI', ''],
    });
    expect(
      view({
        level: 'IMAGE',
        keys: { StudyInstanceUID: '1.2.3', SeriesInstanceUID: '1.2.3.4' },
        returnKeys: [],
      }),
    ).toEqual({
      '00080018': ['UI', ''],
      '00080052': ['CS', 'IMAGE'],
      '0020000D': ['UI', '1.2.3'],
      '0020000E': ['UI', '1.2.3.4'],
    });
  });

  it('a key given both as matching and as return key is sent once, with its value', () => {
    expect(view({ level: 'STUDY', keys: { PatientID: 'X' }, returnKeys: ['PatientID'] })['00100020']).toEqual(
      ['LO', 'X'],
    );
  });

  it('a matching value on the unique key replaces universal matching', () => {
    expect(
      view({ level: 'STUDY', keys: { StudyInstanceUID: '1.2.3\\1.2.4' }, returnKeys: [] })['0020000D'],
    ).toEqual(['UI', '1.2.3\\1.2.4']);
  });

  it('ASCII only: no Specific Character Set', () => {
    expect(
      view({ level: 'STUDY', keys: { PatientName: 'DOE*' }, returnKeys: [] })['00080005'],
    ).toBeUndefined();
  });

  it('non-ASCII text: declares ISO_IR 192 and sends UTF-8', () => {
    const elements = buildFindIdentifier({
      level: 'STUDY',
      keys: { PatientName: 'Иванов*' },
      returnKeys: [],
    });
    const byTag = new Map(elements.map((element) => [element.tag, element.value]));
    expect(byTag.get('00080005')?.toString('latin1')).toBe('ISO_IR 192');
    expect(byTag.get('00100010')).toEqual(Buffer.from('Иванов*', 'utf8'));
  });

  it('non-ASCII text with queryCharset ISO_IR 144: declares it and encodes ISO 8859-5', () => {
    const elements = buildFindIdentifier({
      level: 'STUDY',
      keys: { PatientName: 'Иванов*' },
      returnKeys: [],
      queryCharset: 'ISO_IR 144',
    });
    const byTag = new Map(elements.map((element) => [element.tag, element.value]));
    expect(byTag.get('00080005')?.toString('latin1')).toBe('ISO_IR 144');
    expect(byTag.get('00100010')).toEqual(Buffer.from([0xb8, 0xd2, 0xd0, 0xdd, 0xde, 0xd2, 0x2a]));
  });

  it('encodes in ascending tag order with even lengths (PS3.5 7.1), in both VR encodings', () => {
    const elements = buildFindIdentifier({
      level: 'STUDY',
      keys: { PatientID: 'ABC' },
      returnKeys: ['PatientName'],
    });
    const implicit = encodeDataset(elements, false);
    const explicit = encodeDataset(elements, true);
    // (0008,0052) CS "STUDY " first: group 0008 < 0010 < 0020
    expect(implicit.subarray(0, 14)).toEqual(
      Buffer.from([0x08, 0, 0x52, 0, 6, 0, 0, 0, ...Buffer.from('STUDY ')]),
    );
    expect(explicit.subarray(0, 14)).toEqual(
      Buffer.from([0x08, 0, 0x52, 0, 0x43, 0x53, 6, 0, ...Buffer.from('STUDY ')]),
    );
    // text values are padded with a space to an even length
    expect(implicit.includes(Buffer.from('ABC '))).toBe(true);
  });
});

describe('buildFindIdentifier refuses what it cannot send correctly', () => {
  it.each<[string, FindIdentifierQuery, RegExp]>([
    [
      'unknown keyword',
      { level: 'STUDY', keys: { PatientNme: 'X' }, returnKeys: [] },
      /PatientNme is not a query key/,
    ],
    ['unknown return key', { level: 'STUDY', keys: {}, returnKeys: ['Nope'] }, /Nope is not a query key/],
    [
      'a key below the level',
      { level: 'STUDY', keys: { Modality: 'CT' }, returnKeys: [] },
      /Modality is a SERIES-level key; a STUDY-level query cannot use it/,
    ],
    [
      'the level set by the caller',
      { level: 'STUDY', keys: { QueryRetrieveLevel: 'PATIENT' }, returnKeys: [] },
      /QueryRetrieveLevel is set by the library/,
    ],
    [
      'a bad UID',
      { level: 'STUDY', keys: { StudyInstanceUID: '1.2.abc' }, returnKeys: [] },
      /not a UID or a backslash-separated list of UIDs/,
    ],
    [
      'non-ASCII in a CS',
      { level: 'SERIES', keys: { Modality: 'ČT' }, returnKeys: [] },
      /Modality \(VR CS\) must be ASCII/,
    ],
    [
      'a control character',
      { level: 'STUDY', keys: { PatientID: 'A\nB' }, returnKeys: [] },
      /contains a control character/,
    ],
    [
      'sequence matching',
      { level: 'STUDY', keys: { ProcedureCodeSequence: 'X' }, returnKeys: [] },
      /only universal matching/,
    ],
    [
      'a character the query charset lacks',
      { level: 'STUDY', keys: { PatientName: 'Müller' }, returnKeys: [], queryCharset: 'ISO_IR 144' },
      /"ü", which ISO_IR 144 cannot encode/,
    ],
    [
      'a bad level',
      { level: 'PATIENT' as 'STUDY', keys: {}, returnKeys: [] },
      /level must be one of STUDY, SERIES, IMAGE/,
    ],
  ])('%s', (_name, query, message) => {
    expect(problem(query)).toMatch(message);
  });
});

describe('queryKeywords: the allowlist per level', () => {
  it('grows with the level and never offers what the library sets itself', () => {
    const study = queryKeywords('STUDY');
    const image = queryKeywords('IMAGE');
    expect(study).toEqual(expect.arrayContaining(['PatientName', 'StudyInstanceUID', 'ModalitiesInStudy']));
    expect(study).not.toContain('Modality');
    expect(image).toEqual(expect.arrayContaining([...study, 'Modality', 'SOPInstanceUID']));
    expect(image).not.toContain('QueryRetrieveLevel');
    expect(image).not.toContain('SpecificCharacterSet');
  });

  it('never offers the Modality Worklist keys to a Study Root query', () => {
    expect(queryKeywords('IMAGE')).not.toEqual(expect.arrayContaining(['ScheduledProcedureStepSequence']));
    expect(problem({ level: 'IMAGE', keys: { ScheduledStationAETitle: 'CT1' }, returnKeys: [] })).toMatch(
      /ScheduledStationAETitle is a WORKLIST-level key/,
    );
  });
});
