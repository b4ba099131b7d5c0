import { isValidUid, newUid, uidProblem } from './uid';

describe('UID (PS3.5 9.1, VR UI)', () => {
  it.each([
    ['1.2.840.10008.1.2.1'],
    ['0'],
    ['0.0'],
    ['1.0.3'],
    ['1.20.300'],
    ['2.25.' + '9'.repeat(59)], // exactly 64 characters
  ])('accepts %j', (value) => {
    expect(uidProblem(value)).toBeUndefined();
    expect(isValidUid(value)).toBe(true);
  });

  it.each([
    ['', 'is empty'],
    ['1.2.' + '3'.repeat(61), 'is 65 characters long, more than 64'],
    ['1.2.a', 'may hold only digits and periods (found U+0061)'],
    ['../etc', 'may hold only digits and periods (found U+002F)'],
    ['1.2 ', 'may hold only digits and periods (found U+0020)'],
    ['1..2', 'has an empty component'],
    ['.1.2', 'has an empty component'],
    ['1.2.', 'has an empty component'], // a trailing dot
    ['.', 'has an empty component'],
    ['1.02.3', 'has a component with a leading zero'],
    ['01.2', 'has a component with a leading zero'],
    ['1.2.00', 'has a component with a leading zero'],
  ])('refuses %j: %s', (value, problem) => {
    expect(uidProblem(value)).toBe(problem);
    expect(isValidUid(value)).toBe(false);
  });
});

describe('newUid (PS3.5 B.2, a UUID under 2.25)', () => {
  it('makes valid UIDs under 2.25, each a new one', () => {
    const made = Array.from({ length: 1000 }, () => newUid());
    for (const uid of made) {
      expect(uid).toMatch(/^2\.25\.[1-9]\d*$/);
      expect(isValidUid(uid)).toBe(true);
      expect(uid.length).toBeLessThanOrEqual(44);
    }
    expect(new Set(made).size).toBe(made.length);
  });
});
