import { randomUUID } from 'node:crypto';

/** PS3.5 9.1: a UID is at most 64 characters. */
export const UID_MAX_LENGTH = 64;

/**
 * Why a UID is not valid, or undefined when it is (PS3.5 9.1, VR UI): 1–64 characters, components
 * of digits separated by single periods, no component empty and none with a leading zero unless it
 * is "0" itself. Callers strip the NUL padding of an odd-length value (PS3.5 6.2) first.
 */
export function uidProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > UID_MAX_LENGTH) {
    return `is ${value.length} characters long, more than ${UID_MAX_LENGTH}`;
  }
  const bad = [...value].find((char) => char !== '.' && (char < '0' || char > '9'));
  if (bad !== undefined) {
    const code = bad.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0') ?? '';
    return `may hold only digits and periods (found U+${code})`;
  }
  const components = value.split('.');
  if (components.some((component) => component === '')) return 'has an empty component';
  if (components.some((component) => component.length > 1 && component.startsWith('0'))) {
    return 'has a component with a leading zero';
  }
  return undefined;
}

export function isValidUid(value: string): boolean {
  return uidProblem(value) === undefined;
}

/**
 * A new UID of pacslink's own: `2.25.` and a random UUID as one decimal integer (PS3.5 B.2), so no
 * registered root is needed and no two instances of pacslink can make the same one. At most 44
 * characters. The one rule for UIDs pacslink creates (e.g. an MPPS SOP Instance UID).
 */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString(10)}`;
}
