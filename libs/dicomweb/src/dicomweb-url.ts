import { uidProblem } from '@pacslink/dicom';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';

export function checkUid(field: string, value: string): string {
  const problem = uidProblem(value);
  if (problem !== undefined) {
    throw new DicomwebError(
      DicomwebErrorCode.InvalidRequest,
      `${field} is not a valid UID (PS3.5 9.1): it ${problem}`,
    );
  }
  return value;
}

export type QueryValue = string | number | readonly string[] | undefined;

/**
 * Characters a query name or value keeps as they are: RFC 3986 unreserved, the sub-delimiters and
 * separators that mean nothing inside one `name=value` pair, and `^` (the PN component separator,
 * which the WHATWG URL standard, hence every browser, leaves raw). `*` and `?` are the QIDO-RS
 * wildcards.
 */
const QUERY_SAFE = /^[A-Za-z0-9\-._~!$()*,;:@/?^]$/;

/**
 * Percent-encodes a query name or value, and only what must be: `&`, `=`, `+`, `#`, `%`, space,
 * the other ASCII delimiters, and every non-ASCII character (as UTF-8). Encoding less than
 * encodeURIComponent matters: Orthanc 1.10 with DICOMweb plugin 1.7 matches QIDO-RS values without
 * percent-decoding them, so `DOE%5EJ*` finds nothing where `DOE^J*` finds DOE^JOHN.
 */
export function encodeQueryComponent(value: string): string {
  let encoded = '';
  for (const char of value) {
    if (QUERY_SAFE.test(char)) {
      encoded += char;
    } else {
      const escaped = encodeURIComponent(char);
      // encodeURIComponent leaves ' alone; the WHATWG URL would encode it later anyway
      encoded +=
        escaped === char ? `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : escaped;
    }
  }
  return encoded;
}

/**
 * Appends path segments to a base URL and keeps the base's own path (`https://h/dicom-web` +
 * `studies` → `https://h/dicom-web/studies`; `new URL('/studies', base)` would drop `/dicom-web`).
 * Path segments are encoded with encodeURIComponent, query names and values with
 * {@link encodeQueryComponent} (space as `%20`, never `+`, which not every server decodes as a
 * space). Array values repeat the parameter (`includefield=a&includefield=b`, PS3.18 8.3.4.3).
 */
export function buildUrl(
  base: URL,
  segments: readonly string[],
  query: Readonly<Record<string, QueryValue>> = {},
): URL {
  const basePath = base.pathname.replace(/\/+$/, '');
  const path = segments.map((segment) => encodeURIComponent(segment)).join('/');
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const item of typeof value === 'object' ? value : [value]) {
      pairs.push(`${encodeQueryComponent(name)}=${encodeQueryComponent(String(item))}`);
    }
  }
  const url = new URL(base.origin);
  url.pathname = path === '' ? basePath || '/' : `${basePath}/${path}`;
  url.search = pairs.length === 0 ? '' : `?${pairs.join('&')}`;
  return url;
}
