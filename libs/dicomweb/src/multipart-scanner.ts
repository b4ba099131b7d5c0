/*
 * A push parser for MIME multipart bodies (RFC 2046 5.1) as WADO-RS answers them and STOW-RS
 * style uploads send them (multipart/related, RFC 2387): it never holds a part, only the few bytes
 * at the end of a chunk that may be the start of a delimiter, and a part's header block (bounded).
 * Why not dicer or busboy: see README "Why our own multipart parser".
 */

/** The code of a MultipartError whose body breaks the multipart rules. */
export const MULTIPART_MALFORMED = 'PACSLINK_MULTIPART_MALFORMED';
/** The code of a MultipartError whose body ended before the close delimiter. */
export const MULTIPART_TRUNCATED = 'PACSLINK_MULTIPART_TRUNCATED';

/** What is wrong with a multipart body; failure-mapping.ts words it as a DicomwebError. */
export class MultipartError extends Error {
  override readonly name = 'MultipartError';

  constructor(
    readonly code: typeof MULTIPART_MALFORMED | typeof MULTIPART_TRUNCATED,
    message: string,
  ) {
    super(message);
  }
}

export type MultipartEvent =
  /** A part's header block is complete; names lower-cased, repeated headers joined with ", ". */
  | { kind: 'part'; headers: ReadonlyMap<string, string> }
  /** Bytes of the current part's body: a view of the pushed chunk, valid until the next push. */
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'part-end' }
  /** The close delimiter: every later byte is epilogue, ignored. */
  | { kind: 'end' }
  /** The scanner stops here; later pushes answer nothing. */
  | { kind: 'error'; error: MultipartError };

/** RFC 2046 5.1.1 bchars, 1 to 70 of them, not ending with a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CR = 0x0d;
const LF = 0x0a;
const HYPHEN = 0x2d;
const EMPTY = Buffer.alloc(0);
const HEADER_END = Buffer.from('\r\n\r\n');
/** Transport padding (RFC 2046 5.1.1) longer than this after a delimiter is not padding. */
const MAX_PADDING = 256;

export const DEFAULT_MAX_PART_HEADER_BYTES = 16 * 1024;

type State = 'preamble' | 'body' | 'after-delimiter' | 'headers' | 'epilogue' | 'failed';

export function boundaryProblem(boundary: string): string | undefined {
  return BOUNDARY.test(boundary)
    ? undefined
    : 'a boundary is 1 to 70 of the characters RFC 2046 allows, not ending with a space';
}

export class MultipartScanner {
  private readonly delimiter: Buffer;
  private state: State = 'preamble';
  /** Bytes kept from the last push: a possible delimiter start, or an unfinished header block. */
  private pending: Buffer;
  private inPart = false;
  private parts = 0;

  constructor(
    boundary: string,
    private readonly maxHeaderBytes = DEFAULT_MAX_PART_HEADER_BYTES,
  ) {
    const problem = boundaryProblem(boundary);
    if (problem !== undefined) throw new MultipartError(MULTIPART_MALFORMED, `bad boundary: ${problem}`);
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    // The first delimiter may open the body with no CRLF before it: scan as if one preceded it.
    this.pending = Buffer.from('\r\n');
  }

  /** Parts whose header block has been read. */
  get partCount(): number {
    return this.parts;
  }

  push(chunk: Buffer): MultipartEvent[] {
    const events: MultipartEvent[] = [];
    if (this.state === 'failed' || this.state === 'epilogue') return events;
    const buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = EMPTY;
    let position = 0;
    // The methods below change the state; `as State` keeps TypeScript from narrowing it here.
    while (position < buffer.length && (this.state as State) !== 'failed') {
      switch (this.state as State) {
        case 'preamble':
        case 'body':
          position = this.scanBody(buffer, position, events);
          break;
        case 'after-delimiter':
          position = this.afterDelimiter(buffer, position, events);
          break;
        case 'headers':
          position = this.headers(buffer, position, events);
          break;
        case 'epilogue':
        case 'failed':
          position = buffer.length;
          break;
      }
    }
    return events;
  }

  /** The body ended: an error event unless the close delimiter came. */
  finish(): MultipartEvent[] {
    if (this.state === 'epilogue' || this.state === 'failed') return [];
    const where = this.inPart
      ? `in the middle of part ${this.parts}`
      : this.parts === 0
        ? 'before its first part'
        : `after part ${this.parts}`;
    return [this.fail(MULTIPART_TRUNCATED, `the multipart body ended ${where}, without its close delimiter`)];
  }

  private fail(code: MultipartError['code'], message: string): MultipartEvent {
    this.state = 'failed';
    return { kind: 'error', error: new MultipartError(code, message) };
  }

  /** Part data (or preamble, dropped) up to the next delimiter; keeps a possible delimiter start. */
  private scanBody(buffer: Buffer, position: number, events: MultipartEvent[]): number {
    const found = buffer.indexOf(this.delimiter, position);
    const dataEnd = found === -1 ? buffer.length - this.partialDelimiter(buffer, position) : found;
    if (this.state === 'body' && dataEnd > position) {
      events.push({ kind: 'data', bytes: buffer.subarray(position, dataEnd) });
    }
    if (found === -1) {
      // A copy: the caller's chunk is not held on to.
      this.pending = Buffer.from(buffer.subarray(dataEnd));
      return buffer.length;
    }
    this.state = 'after-delimiter';
    return found + this.delimiter.length;
  }

  /** The length of the longest end of `buffer` (from `position`) that begins the delimiter. */
  private partialDelimiter(buffer: Buffer, position: number): number {
    let start = buffer.indexOf(CR, Math.max(position, buffer.length - this.delimiter.length + 1));
    while (start !== -1) {
      const tail = buffer.length - start;
      if (buffer.subarray(start).equals(this.delimiter.subarray(0, tail))) return tail;
      start = buffer.indexOf(CR, start + 1);
    }
    return 0;
  }

  /** `--` (close delimiter), or transport padding then CRLF; anything else is no delimiter line. */
  private afterDelimiter(buffer: Buffer, position: number, events: MultipartEvent[]): number {
    if (buffer.length - position < 2) return this.keep(buffer, position);
    if (buffer[position] === HYPHEN && buffer[position + 1] === HYPHEN) {
      this.endPart(events);
      events.push({ kind: 'end' });
      this.state = 'epilogue';
      return buffer.length;
    }
    let cursor = position;
    while (cursor < buffer.length && (buffer[cursor] === 0x20 || buffer[cursor] === 0x09)) cursor += 1;
    if (cursor - position > MAX_PADDING) {
      events.push(this.fail(MULTIPART_MALFORMED, 'a boundary line goes on with more than 256 spaces'));
      return buffer.length;
    }
    if (buffer.length - cursor < 2) return this.keep(buffer, position);
    if (buffer[cursor] !== CR || buffer[cursor + 1] !== LF) {
      events.push(
        this.fail(
          MULTIPART_MALFORMED,
          `the boundary after part ${this.parts} is followed by other characters than CRLF or "--" (RFC 2046 5.1.1)`,
        ),
      );
      return buffer.length;
    }
    this.endPart(events);
    this.state = 'headers';
    return cursor + 2;
  }

  private endPart(events: MultipartEvent[]): void {
    if (this.inPart) events.push({ kind: 'part-end' });
    this.inPart = false;
  }

  /** A part's header block: lines up to an empty line (which may be the first). */
  private headers(buffer: Buffer, position: number, events: MultipartEvent[]): number {
    if (buffer.length - position < 2) return this.keep(buffer, position);
    let blockEnd: number;
    let bodyStart: number;
    if (buffer[position] === CR && buffer[position + 1] === LF) {
      blockEnd = position;
      bodyStart = position + 2;
    } else {
      blockEnd = buffer.indexOf(HEADER_END, position);
      if (blockEnd === -1) {
        if (buffer.length - position > this.maxHeaderBytes) {
          events.push(this.headersTooLarge());
          return buffer.length;
        }
        return this.keep(buffer, position);
      }
      bodyStart = blockEnd + HEADER_END.length;
    }
    if (blockEnd - position > this.maxHeaderBytes) {
      events.push(this.headersTooLarge());
      return buffer.length;
    }
    const headers = parseHeaderBlock(buffer.toString('latin1', position, blockEnd));
    this.parts += 1;
    if (typeof headers === 'string') {
      events.push(this.fail(MULTIPART_MALFORMED, `part ${this.parts} has a malformed header: ${headers}`));
      return buffer.length;
    }
    events.push({ kind: 'part', headers });
    this.inPart = true;
    this.state = 'body';
    return bodyStart;
  }

  private headersTooLarge(): MultipartEvent {
    return this.fail(
      MULTIPART_MALFORMED,
      `the headers of part ${this.parts + 1} exceed ${this.maxHeaderBytes} bytes (no empty line ends them)`,
    );
  }

  private keep(buffer: Buffer, position: number): number {
    this.pending = Buffer.from(buffer.subarray(position));
    return buffer.length;
  }
}

/** RFC 5322 2.2 header fields, with folded lines; a string says what is wrong. */
function parseHeaderBlock(block: string): Map<string, string> | string {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of block === '' ? [] : block.split('\r\n')) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last === undefined) return 'a folded line comes first';
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim().toLowerCase();
    if (!TOKEN.test(name)) return `a line is not "name: value" (${JSON.stringify(line.slice(0, 40))})`;
    const value = line.slice(colon + 1).trim();
    const earlier = headers.get(name);
    headers.set(name, earlier === undefined ? value : `${earlier}, ${value}`);
    last = name;
  }
  return headers;
}
