import { validateSync } from 'class-validator';
import { IsDicomUid } from './uid.validator';

class Subject {
  @IsDicomUid() studyInstanceUid!: unknown;
}

function messagesFor(value: unknown): string[] {
  const subject = Object.assign(new Subject(), { studyInstanceUid: value });
  return validateSync(subject).flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('IsDicomUid', () => {
  it.each([['1.2.840.10008.1.2.1'], ['0'], ['2.25.' + '9'.repeat(59)]])('accepts %j', (value) => {
    expect(messagesFor(value)).toEqual([]);
  });

  it.each([
    ['2.25.' + '9'.repeat(60), 'it is 65 characters long, more than 64'],
    ['1.02.3', 'it has a component with a leading zero'],
    ['1..2', 'it has an empty component'],
    ['1.2.', 'it has an empty component'],
    ['', 'it is empty'],
    ['1.2.a', 'it may hold only digits and periods (found U+0061)'],
    [123, 'it must be a string, not number'],
    [null, 'it must be a string, not null'],
  ])('refuses %j, naming the property and the problem', (value, problem) => {
    expect(messagesFor(value)).toEqual([`studyInstanceUid is not a valid UID (PS3.5 9.1): ${problem}`]);
  });
});
