import { aeTitleProblem, normalizeAeTitle } from './ae-title';

describe('AE title (PS3.5 VR AE)', () => {
  it.each([
    ['A'],
    ['ORTHANC'],
    ['sixteen_chars_16'],
    ['  PADDED  '],
    ['MIXED case ok'],
    ['with-symbols!@#~'],
    [' '.repeat(20) + 'X'],
  ])('accepts %j', (value) => {
    expect(aeTitleProblem(value)).toBeUndefined();
  });

  it.each([
    ['', 'must not be empty or all spaces'],
    ['    ', 'must not be empty or all spaces'],
    ['seventeen_chars17', 'at most 16 characters after trimming spaces (has 17)'],
    ['BACK\\SLASH', 'must not contain a backslash'],
    ['TAB\tHERE', 'printable ASCII characters (found U+0009)'],
    ['ESC\u001bX', 'printable ASCII characters (found U+001B)'],
    ['DEL\u007f', 'printable ASCII characters (found U+007F)'],
    ['ÄRZTE', 'printable ASCII characters (found U+00C4)'],
    ['ПАКС', 'printable ASCII characters (found U+041F)'],
    ['\tLEADTAB', 'printable ASCII characters (found U+0009)'],
    [42, 'must be a string'],
  ])('refuses %j: %s', (value, problem) => {
    expect(aeTitleProblem(value)).toContain(problem);
  });

  it('trims spaces only, keeping case', () => {
    expect(normalizeAeTitle('  Orthanc ')).toBe('Orthanc');
    expect(normalizeAeTitle('\tX')).toBe('\tX');
  });
});
