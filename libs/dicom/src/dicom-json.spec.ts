import {
  dicomJsonProblem,
  dicomJsonString,
  dicomJsonStrings,
  isDicomJsonArray,
  normalizeTag,
} from './dicom-json';

// As Orthanc answers a QIDO-RS study query (PS3.18 F.2), PN padded with a space.
const ORTHANC_STUDY = {
  '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
  '00080020': { vr: 'DA', Value: ['20240101'] },
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Иванов^Иван ' }] },
  '0020000D': { vr: 'UI', Value: ['1.2.3'] },
  '00201206': { vr: 'IS', Value: [2] },
  '00081030': { vr: 'LO' },
  '00400275': { vr: 'SQ', Value: [{ '00400009': { vr: 'SH', Value: ['SPS1'] } }] },
};

describe('dicomJsonProblem', () => {
  it('accepts arrays of datasets, empty arrays and nested sequences', () => {
    expect(dicomJsonProblem([])).toBeUndefined();
    expect(dicomJsonProblem([ORTHANC_STUDY, { '0020000d': { vr: 'UI', Value: ['1.2'] } }])).toBeUndefined();
    expect(isDicomJsonArray([ORTHANC_STUDY])).toBe(true);
  });

  it.each([
    [{ status: 'ok' }, 'expected an array of datasets, got an object with keys status'],
    ['<html>', 'expected an array of datasets, got a string'],
    [null, 'expected an array of datasets, got null'],
    [[{ id: 1 }], 'item 0 has key "id", not an 8-hex-digit tag'],
    [[1], 'item 0 is a number, not a dataset'],
    [[[]], 'item 0 is an array, not a dataset'],
    [[{ '00100010': 'DOE' }], 'item 0 attribute 00100010 is a string'],
    [[{ '00100010': { Value: ['x'] } }], 'item 0 attribute 00100010 has no valid vr'],
    [[{ '00100010': { vr: 'pn' } }], 'item 0 attribute 00100010 has no valid vr'],
    [
      [{ '00100010': { vr: 'PN', Value: 'DOE' } }],
      'item 0 attribute 00100010 has a Value that is not an array',
    ],
    [
      [{ '00400275': { vr: 'SQ', Value: [{ bad: 1 }] } }],
      'item 0 00400275[0] has key "bad", not an 8-hex-digit tag',
    ],
  ])('refuses %j: %s', (value, problem) => {
    expect(dicomJsonProblem(value)).toBe(problem);
    expect(isDicomJsonArray(value)).toBe(false);
  });

  it('bounds the sequence depth it follows', () => {
    let dataset: object = { '00100010': { vr: 'PN' } };
    for (let depth = 0; depth < 20; depth++) dataset = { '00400275': { vr: 'SQ', Value: [dataset] } };
    expect(dicomJsonProblem([dataset])).toMatch(/nests sequences deeper than 16/);
  });
});

describe('dicomJsonString', () => {
  it('reads strings, numbers and the Alphabetic group of a PN, trimming the padding', () => {
    expect(dicomJsonString(ORTHANC_STUDY, '00100010')).toBe('Иванов^Иван');
    expect(dicomJsonString(ORTHANC_STUDY, '0020000d')).toBe('1.2.3');
    expect(dicomJsonString(ORTHANC_STUDY, '(0020,1206)')).toBe('2');
    expect(dicomJsonString(ORTHANC_STUDY, '00081030')).toBeUndefined();
    expect(dicomJsonStrings(ORTHANC_STUDY, '00400275')).toEqual([]);
  });
});

describe('normalizeTag', () => {
  it('accepts the usual spellings of a tag', () => {
    expect(normalizeTag('0020000d')).toBe('0020000D');
    expect(normalizeTag('(0020,000D)')).toBe('0020000D');
    expect(normalizeTag('0020,000D')).toBe('0020000D');
    expect(normalizeTag('StudyInstanceUID')).toBeUndefined();
  });
});
