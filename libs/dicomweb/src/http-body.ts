import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { quotePeerText } from '@pacslink/dicom';
import { BODY_STALLED, BODY_TOO_SLOW, redact, type ResponseFacts } from './failure-mapping';

export interface BodyPrefix {
  bytes: Buffer;
  /** False when the body went on beyond `maxBytes`; the rest was discarded and the stream destroyed. */
  complete: boolean;
}

/** A body that did not arrive whole within its time: failure-mapping.ts words it as a response timeout. */
export class BodyTooSlowError extends Error {
  override readonly name = 'BodyTooSlowError';
  readonly code: typeof BODY_TOO_SLOW | typeof BODY_STALLED;

  /** `stalled`: nothing arrived for the last half of the deadline — the server stopped, it did not trickle. */
  constructor(
    readonly timeoutMs: number,
    stalled: boolean,
  ) {
    super(
      `the body did not arrive whole within ${timeoutMs} ms${stalled ? ' (nothing arrived lately)' : ''}`,
    );
    this.code = stalled ? BODY_STALLED : BODY_TOO_SLOW;
  }
}

/**
 * Reads at most `maxBytes` of a body, so a server that streams without end (or a huge HTML page)
 * never costs more memory than that, and within `timeoutMs` in all: undici's bodyTimeout only
 * bounds the silence between two chunks, so a server that trickles its answer a byte at a time
 * would otherwise hold the request for as long as it likes (issue 10).
 */
export async function readPrefix(body: Readable, maxBytes: number, timeoutMs: number): Promise<BodyPrefix> {
  let lastChunkAt = Date.now();
  // Both undici's bodyTimeout (silence) and this deadline are timeoutMs, and this one, counted from
  // the headers, always fires first: tell the two cases apart by how long the body has been silent.
  const timer = setTimeout(
    () => body.destroy(new BodyTooSlowError(timeoutMs, Date.now() - lastChunkAt >= timeoutMs / 2)),
    timeoutMs,
  );
  try {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of body) {
      lastChunkAt = Date.now();
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(buffer);
      length += buffer.length;
      if (length > maxBytes) {
        body.destroy();
        return { bytes: Buffer.concat(chunks).subarray(0, maxBytes), complete: false };
      }
    }
    return { bytes: Buffer.concat(chunks), complete: true };
  } finally {
    clearTimeout(timer);
  }
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The media type without parameters, lower-cased: `application/dicom+json`. */
export function mediaType(headers: IncomingHttpHeaders): string | undefined {
  const value = headerValue(headers, 'content-type');
  const type = value?.split(';')[0].trim().toLowerCase();
  return type === '' ? undefined : type;
}

export const SNIPPET_CHARACTERS = 160;
const TITLE_CHARACTERS = 80;

/**
 * The first characters of a body for a message, secrets removed, quoted as the server's own words
 * (quotePeerText: one line, bounded); empty when the body is.
 */
export function snippetOf(bytes: Buffer, secrets: readonly string[]): string {
  const text = redact(bytes.subarray(0, 4 * SNIPPET_CHARACTERS).toString('utf8'), secrets);
  return text.trim() === '' ? '' : quotePeerText(text, SNIPPET_CHARACTERS);
}

function htmlTitle(bytes: Buffer, secrets: readonly string[]): string | undefined {
  const text = bytes.subarray(0, 64 * 1024).toString('utf8');
  if (!/<(!doctype\s+html|html[\s>])/i.test(text)) return undefined;
  const title = redact(/<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1] ?? '', secrets);
  return title.trim() === '' ? '' : quotePeerText(title, TITLE_CHARACTERS);
}

/** A redirect target for a message: resolved, without credentials or query (it may carry state). */
function locationOf(headers: IncomingHttpHeaders, requestUrl: URL): string | undefined {
  const location = headerValue(headers, 'location');
  if (location === undefined) return undefined;
  try {
    const url = new URL(location, requestUrl);
    return `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

export function responseFacts(
  status: number,
  headers: IncomingHttpHeaders,
  bytes: Buffer,
  secrets: readonly string[],
  requestUrl: URL,
): ResponseFacts {
  const wwwAuthenticate = headerValue(headers, 'www-authenticate');
  return {
    status,
    contentType: mediaType(headers),
    snippet: snippetOf(bytes, secrets),
    htmlTitle: htmlTitle(bytes, secrets),
    location: locationOf(headers, requestUrl),
    wwwAuthenticate: wwwAuthenticate === undefined ? undefined : redact(wwwAuthenticate, secrets),
  };
}
