/** Whose study a text is about: the study store's Patient's Name (PN) and Patient ID (LO). */
export interface PatientIdentity {
  patientName?: string | null;
  patientId?: string | null;
}

export const PATIENT_MASK = '***';

/** One-letter words (initials) identify nobody and would mask half of every sentence. */
const MIN_CHARACTERS = 2;
/** Scripts written without spaces between words: a name there is masked wherever it occurs. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const DIGITS = /^\p{N}+$/u;
const WORD_SEPARATORS = /[\s,.;:'\u2019"()\-_/\\]+/u;

const length = (text: string): number => [...text].length;
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The words of a PN value that name the patient (PS3.5 6.2.1.1): component groups (alphabetic,
 * ideographic, phonetic) split by `=`, components by `^` in the order family, given, middle,
 * prefix, suffix. Prefixes and suffixes ("Dr", "Jr", "III") identify nobody and are left alone.
 * Each component is cut into words on spaces, hyphens and apostrophes, so that "DOE^JOHN",
 * "DOE JOHN", "John Doe" and "Doe, John" all lose both words, and "Smith-Jones" both halves.
 */
function nameWords(patientName: string): string[] {
  return patientName
    .split('=')
    .flatMap((group) => group.split('^').slice(0, 3))
    .flatMap((component) => component.split(WORD_SEPARATORS))
    .filter((word) => length(word) >= MIN_CHARACTERS);
}

/**
 * A word as a whole token: not inside a longer word ("Li" leaves "limit" alone, "Doe" leaves
 * "does"). A number is not taken out of a dotted number either, so that a patient ID of digits
 * leaves UIDs (1.2.840.4711.5) and versions intact. Names in scripts without spaces match anywhere.
 */
function tokenPattern(word: string): string {
  const text = escape(word);
  if (UNSPACED.test(word)) return text;
  if (DIGITS.test(word)) return `(?<![\\p{L}\\p{N}]|\\p{N}\\.)${text}(?![\\p{L}\\p{N}]|\\.\\p{N})`;
  return `(?<![\\p{L}\\p{N}])${text}(?![\\p{L}\\p{N}])`;
}

/**
 * Masks the patient's name and ID in a text a PACS wrote (an ErrorComment, an HTTP body), case
 * aside, before it reaches an event, a log line or the API. The name is masked word by word, in
 * any order and spelling of separators; the ID as a whole. A word cut short by a bound ("…DOE^JO…")
 * is masked when it begins a word of the name or the ID.
 */
export function maskPatientData(text: string, patient: PatientIdentity): string {
  const name = patient.patientName?.trim() ?? '';
  const id = patient.patientId?.trim() ?? '';
  const words = [
    ...new Set([...(name === '' ? [] : nameWords(name)), ...(length(id) >= MIN_CHARACTERS ? [id] : [])]),
  ]
    // Longest first: an ID that holds a name word goes whole.
    .sort((a, b) => length(b) - length(a));
  if (words.length === 0) return text;
  const whole = new RegExp(words.map(tokenPattern).join('|'), 'giu');
  const lower = words.map((word) => word.toLowerCase());
  return text
    .replace(whole, PATIENT_MASK)
    .replace(/(?<![\p{L}\p{N}])([\p{L}\p{N}]{2,})…/gu, (cut, start: string) =>
      lower.some((word) => word.startsWith(start.toLowerCase())) ? `${PATIENT_MASK}…` : cut,
    );
}
