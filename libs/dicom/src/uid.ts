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
