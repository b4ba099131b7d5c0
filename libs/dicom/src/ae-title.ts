import { registerDecorator, type ValidationOptions } from 'class-validator';
import { Transform } from 'class-transformer';

/** PS3.5 6.2, VR AE: at most 16 characters, no control characters or backslash. */
export const AE_TITLE_MAX_LENGTH = 16;

/**
 * Why an AE title is not valid, or undefined when it is. Leading and trailing spaces are not
 * significant (PS3.5 6.2) and are trimmed first; what remains must be 1–16 printable ASCII
 * characters (0x20–0x7E) other than backslash, the value delimiter.
 */
export function aeTitleProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  const trimmed = normalizeAeTitle(value);
  if (trimmed.length === 0) return 'must not be empty or all spaces';
  if (trimmed.length > AE_TITLE_MAX_LENGTH) {
    return `must be at most ${AE_TITLE_MAX_LENGTH} characters after trimming spaces (has ${trimmed.length})`;
  }
  const bad = [...trimmed].find((char) => char === '\\' || char < ' ' || char > '~');
  if (bad !== undefined) {
    const code = bad.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0') ?? '';
    return bad === '\\'
      ? 'must not contain a backslash'
      : `must contain only printable ASCII characters (found U+${code})`;
  }
  return undefined;
}

/** Trims leading/trailing spaces (only spaces: other whitespace is an error, not padding). */
export function normalizeAeTitle(value: string): string {
  return value.replace(/^ +| +$/g, '');
}

/** class-validator: the property is a valid AE title; pair it with `@TrimAeTitle()`. */
export function IsAeTitle(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isAeTitle',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => aeTitleProblem(value) === undefined,
        defaultMessage: (args) =>
          `${args?.property} ${aeTitleProblem(args?.value) ?? 'is not a valid AE title'}`,
      },
    });
}

/** class-transformer: stores the AE title trimmed, as given otherwise (no upper-casing). */
export function TrimAeTitle(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? normalizeAeTitle(value) : value,
  );
}
