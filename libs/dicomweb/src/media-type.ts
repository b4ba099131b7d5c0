/** RFC 9110 8.3.1: type "/" subtype *( ";" parameter ), parameter values tokens or quoted strings. */
const PARAMETER = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g;

export interface MediaType {
  /** Lower-cased, without parameters: `multipart/related`. */
  type: string;
  /** Names lower-cased; quoted values unquoted. */
  parameters: ReadonlyMap<string, string>;
}

export function parseMediaType(header: string): MediaType {
  const semicolon = header.indexOf(';');
  const type = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  const parameters = new Map<string, string>();
  if (semicolon !== -1) {
    for (const [, name, raw] of header.slice(semicolon).matchAll(PARAMETER)) {
      const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      parameters.set(name.toLowerCase(), value);
    }
  }
  return { type, parameters };
}
