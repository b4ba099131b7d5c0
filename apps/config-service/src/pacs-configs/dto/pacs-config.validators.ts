import { isIP } from 'node:net';
import { registerDecorator, type ValidationOptions } from 'class-validator';

/**
 * Field rules of PACS configurations, each a function saying why a value is wrong (or undefined
 * when it is right) plus a class-validator decorator that names the property in front of it.
 * Messages never quote a value: some of these fields are secrets.
 */
export type Problem = (value: unknown) => string | undefined;

export const URL_MAX_LENGTH = 2048;
export const HOST_MAX_LENGTH = 253;
export const NAME_MAX_LENGTH = 128;

/** U+0000–U+001F and U+007F–U+009F; Postgres text cannot even hold U+0000. */
const CONTROL = /\p{Cc}/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Unicode text of 1–max characters (code points, as Postgres counts them), no control characters. */
export function textProblem(
  max: number,
  options: { secret?: boolean; blankAllowed?: boolean } = {},
): Problem {
  return (value) => {
    if (typeof value !== 'string') return 'must be a string';
    if (value.length === 0 || (!options.blankAllowed && value.trim().length === 0)) {
      return 'must not be empty or blank';
    }
    const length = [...value].length;
    if (length > max) return `must be at most ${max} characters (has ${length})`;
    const control = CONTROL.exec(value);
    if (control) {
      return options.secret
        ? 'must not contain control characters'
        : `must not contain control characters (found ${codePoint(control[0])})`;
    }
    if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (found a lone surrogate)';
    return undefined;
  };
}

/** RFC 7617 2: the user-id of Basic authentication cannot contain a colon. */
export function basicUsernameProblem(value: unknown): string | undefined {
  const problem = textProblem(256)(value);
  if (problem) return problem;
  return (value as string).includes(':') ? 'must not contain a colon (RFC 7617)' : undefined;
}

/** RFC 6750 2.1: a bearer token travels in a header, so visible ASCII only (no spaces). */
export function bearerTokenProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > 8192) return `must be at most 8192 characters (has ${value.length})`;
  return /^[\x21-\x7E]+$/.test(value)
    ? undefined
    : 'must contain only visible ASCII characters (no spaces or control characters)';
}

/** An absolute http(s) URL without credentials or fragment, stored as given. */
export function httpUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > URL_MAX_LENGTH) {
    return `must be at most ${URL_MAX_LENGTH} characters (has ${value.length})`;
  }
  if (/[\s\p{Cc}]/u.test(value)) return 'must not contain spaces or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `must use http or https, not ${url.protocol.slice(0, -1)}`;
  }
  // WHATWG parsing forgives "http:host" and "http:/host"; an absolute URL is written with "//".
  if (!/^https?:\/\/[^/]/i.test(value)) return 'must be an absolute http:// or https:// URL';
  if (url.username !== '' || url.password !== '') {
    return 'must not contain a user name or password: put credentials in auth';
  }
  if (value.includes('#')) return 'must not contain a fragment (#…)';
  return undefined;
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** A host name (RFC 1123 2.1) or an IPv4/IPv6 address literal (IPv6 without brackets). */
export function hostProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > HOST_MAX_LENGTH) {
    return `must be at most ${HOST_MAX_LENGTH} characters (has ${value.length})`;
  }
  if (isIP(value) !== 0) return undefined;
  const labels = (value.endsWith('.') ? value.slice(0, -1) : value).split('.');
  if (!labels.every((label) => HOST_LABEL.test(label))) {
    return (
      'must be a host name (RFC 1123: dot-separated labels of 1–63 letters, digits and hyphens, ' +
      'not starting or ending with a hyphen) or an IPv4 or IPv6 address (IPv6 without brackets)'
    );
  }
  // RFC 3696 2: a top-level label is never all-numeric, so "10.0.0.256" is a bad address, not a name.
  if (/^\d+$/.test(labels[labels.length - 1])) return 'must be a host name or a valid IPv4 address';
  return undefined;
}

/** A class-validator decorator from a Problem: the message is "<property> <problem>". */
export function Satisfies(name: string, problem: Problem, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => problem(value) === undefined,
        defaultMessage: (args) => `${args?.property} ${problem(args?.value) ?? 'is not valid'}`,
      },
    });
}

/**
 * Refuses properties that exist but not on this class (the other type's fields, read-only fields),
 * with a message saying why instead of the generic "should not exist".
 */
export function refuseFields(target: abstract new () => object, reasons: Record<string, string>): void {
  for (const [propertyName, reason] of Object.entries(reasons)) {
    registerDecorator({
      name: 'refusedField',
      target,
      propertyName,
      validator: {
        validate: (value: unknown) => value === undefined,
        defaultMessage: () => `${propertyName} ${reason}`,
      },
    });
  }
}
