import { queryFilterKeywords, queryFilterProblem } from './query-filters';

describe('query filters (PS3.4 C.2.2.2, C.6.2.1)', () => {
  it('allows a level its own keys and those above it, not those below', () => {
    expect(queryFilterKeywords('study')).toContain('PatientName');
    expect(queryFilterKeywords('study')).not.toContain('Modality');
    expect(queryFilterKeywords('series')).toEqual(expect.arrayContaining(['PatientName', 'Modality']));
    expect(queryFilterKeywords('instance')).toEqual(expect.arrayContaining(['SOPInstanceUID', 'StudyDate']));
    expect(queryFilterProblem('study', 'Modality', 'CT')).toBe(
      'is a series-level key; a study-level query cannot use it',
    );
    expect(queryFilterProblem('study', 'Nonsense', 'x')).toMatch(
      /^is not a query key; the keys .* PatientName/,
    );
  });

  it.each([
    ['StudyDate', '20240131'],
    ['StudyDate', '20240101-20240131'],
    ['StudyDate', '-20240131'],
    ['StudyDate', '20240101-'],
    ['StudyDate', '20240229'],
    ['StudyTime', '0830'],
    ['StudyTime', '083000.123-1700'],
    ['PatientName', 'DOE^J*'],
    ['PatientName', 'Müller?'],
    ['StudyInstanceUID', '1.2.840.10008.1'],
    ['StudyInstanceUID', '1.2.3\\1.2.4'],
    ['ModalitiesInStudy', 'CT\\MR'],
    ['PatientSex', 'F'],
    ['PatientAge', '045Y'],
    ['SeriesNumber', '3'],
    ['AccessionNumber', 'A*'],
  ])('accepts %s = %j', (keyword, value) => {
    expect(queryFilterProblem('instance', keyword, value)).toBeUndefined();
  });

  it.each([
    ['StudyDate', '2024', '"2024" is not a date (YYYYMMDD)'],
    ['StudyDate', '20240230', '"20240230" is not a calendar date'],
    ['StudyDate', '20240131-20240101', 'the range "20240131-20240101" ends before it starts'],
    ['StudyDate', '-', '"-" is not a date or a date range (A-B, -B or A-)'],
    [
      'StudyDate',
      '2024*',
      'must not contain the wildcards * or ?: wildcard matching does not apply to VR DA (PS3.4 C.2.2.2.4)',
    ],
    ['StudyTime', '2500', '"2500" is not a time (HH, HHMM, HHMMSS or HHMMSS.FFFFFF)'],
    [
      'StudyInstanceUID',
      '1.2.*',
      'must not contain the wildcards * or ?: wildcard matching does not apply to UIDs (PS3.4 C.2.2.2.4)',
    ],
    [
      'StudyInstanceUID',
      '1.02.3',
      '"1.02.3" is not a UID (PS3.5 9.1): it has a component with a leading zero (several UIDs are separated by a backslash)',
    ],
    ['PatientName', 'A\\B', expect.stringContaining('only UID list matching allows') as unknown],
    ['PatientName', 'tab\there', 'must not contain control characters'],
    ['PatientName', 'x'.repeat(65), 'must have at most 64 characters'],
    ['PatientName', '', expect.stringContaining('must not be empty') as unknown],
    ['PatientID', 7, 'must be a string'],
    ['PatientSex', 'female', expect.stringContaining('is not a code string') as unknown],
    ['SeriesNumber', 'three', '"three" is not an integer'],
  ])('refuses %s = %j', (keyword, value, problem) => {
    expect(queryFilterProblem('instance', keyword, value)).toEqual(problem);
  });
});
