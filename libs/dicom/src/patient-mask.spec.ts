import { maskPatientData } from './patient-mask';

const doe = { patientName: 'DOE^JOHN', patientId: 'PID-4711' };

describe('maskPatientData', () => {
  it.each([
    ['DICOM PN as stored', 'cannot store DOE^JOHN: locked', 'cannot store ***^***: locked'],
    ['components with a space', 'patient DOE JOHN is merged', 'patient *** *** is merged'],
    ['given name first, any case', 'study of John Doe rejected', 'study of *** *** rejected'],
    ['family name, comma, given', 'Doe, John (born 1970)', '***, *** (born 1970)'],
    ['in quotes and brackets', 'name="doe^john" [DOE]', 'name="***^***" [***]'],
    ['the patient ID, whole', 'PatientID PID-4711 differs', 'PatientID *** differs'],
    ['the ID in any case', 'pid-4711 is unknown', '*** is unknown'],
  ])('masks %s', (_, text, masked) => {
    expect(maskPatientData(text, doe)).toBe(masked);
  });

  it('leaves words that merely contain a name word alone', () => {
    expect(maskPatientData('the server does not know JOHNSON or Doerr', doe)).toBe(
      'the server does not know JOHNSON or Doerr',
    );
    expect(maskPatientData('the limit is 10 MB', { patientName: 'Li^Wei' })).toBe('the limit is 10 MB');
    expect(maskPatientData('Li Wei: the limit is 10 MB', { patientName: 'Li^Wei' })).toBe(
      '*** ***: the limit is 10 MB',
    );
  });

  it('leaves one-letter words (initials) and the prefix and suffix components alone', () => {
    const patient = { patientName: 'DOE^JOHN^Q^DR^JR' };
    expect(maskPatientData('Dr John Q Doe Jr', patient)).toBe('Dr *** Q *** Jr');
  });

  it('masks each part of a hyphenated or multi-word family name', () => {
    const patient = { patientName: "Smith-Jones^Mary Ann=^=^O'Brien" };
    expect(maskPatientData('SMITH-JONES MARY ANN', patient)).toBe('***-*** *** ***');
    expect(maskPatientData('Mrs Smith', patient)).toBe('Mrs ***');
  });

  it('masks every component group: alphabetic, ideographic, phonetic', () => {
    const patient = { patientName: 'Yamada^Tarou=山田^太郎=やまだ^たろう' };
    // Japanese is written without spaces: the ideographic name goes wherever it stands.
    expect(maskPatientData('患者山田太郎様のデータ (YAMADA TAROU, やまだ)', patient)).toBe(
      '患者******様のデータ (*** ***, ***)',
    );
  });

  it('masks names in other alphabets, case aside', () => {
    const patient = { patientName: 'Иванов^Иван', patientId: 'ЮЛ-01' };
    expect(maskPatientData('пациент ИВАНОВ иван, юл-01', patient)).toBe('пациент *** ***, ***');
  });

  it('leaves UIDs and dotted numbers intact when the patient ID is a number', () => {
    const patient = { patientName: 'DOE^JOHN', patientId: '4711' };
    expect(maskPatientData('1.2.840.4711.5 refused (ID 4711, version 4711.2)', patient)).toBe(
      '1.2.840.4711.5 refused (ID ***, version 4711.2)',
    );
    expect(maskPatientData('patient 4711.', patient)).toBe('patient ***.');
    expect(maskPatientData('0x4711 4711x', patient)).toBe('0x4711 4711x');
  });

  it('masks a word that a bound cut short, when it begins a name word or the ID', () => {
    expect(maskPatientData('“cannot store DOE^JO…”', doe)).toBe('“cannot store ***^***…”');
    expect(maskPatientData('“patient PI…”', doe)).toBe('“patient ***…”');
    expect(maskPatientData('“the database is unavai…”', doe)).toBe('“the database is unavai…”');
  });

  it('changes nothing without a name or ID, or with one-character ones', () => {
    expect(maskPatientData('DOE^JOHN', {})).toBe('DOE^JOHN');
    expect(maskPatientData('DOE^JOHN', { patientName: null, patientId: null })).toBe('DOE^JOHN');
    expect(maskPatientData('A 1 B', { patientName: 'A^B', patientId: '1' })).toBe('A 1 B');
  });

  it('treats the name and the ID as text, not as patterns', () => {
    const patient = { patientName: 'Ann+Lee^Bo*', patientId: 'X.*Y' };
    expect(maskPatientData('Ann+Lee Bo* X.*Y AnnXLee Booo XaaY', patient)).toBe(
      '*** *** *** AnnXLee Booo XaaY',
    );
  });
});
