import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { forEachPart, type MultipartPart } from './multipart-parts';
import { MULTIPART_MALFORMED, MULTIPART_TRUNCATED, MultipartError } from './multipart-scanner';

const BOUNDARY = 'b0undary-x';
const CRLF = '\r\n';

function body(parts: readonly Buffer[], options: { preamble?: string; epilogue?: string } = {}): Buffer {
  const pieces: Buffer[] = [Buffer.from(options.preamble ?? '')];
  for (const part of parts) {
    pieces.push(Buffer.from(`--${BOUNDARY}${CRLF}Content-Type: application/dicom${CRLF}${CRLF}`), part);
    pieces.push(Buffer.from(CRLF));
  }
  pieces.push(Buffer.from(`--${BOUNDARY}--${CRLF}${options.epilogue ?? ''}`));
  return Buffer.concat(pieces);
}

function chunks(bytes: Buffer, sizes: readonly number[]): Readable {
  return Readable.from(slices(bytes, sizes));
}

function* slices(bytes: Buffer, sizes: readonly number[]): Generator<Buffer> {
  let offset = 0;
  let index = 0;
  while (offset < bytes.length) {
    const size = sizes[index % sizes.length];
    index += 1;
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

async function collect(part: MultipartPart): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of part.body) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

function sameParts(found: readonly { bytes: Buffer }[], expected: readonly Buffer[]): boolean {
  return found.length === expected.length && found.every((part, index) => part.bytes.equals(expected[index]));
}

async function parse(source: AsyncIterable<Buffer>, boundary = BOUNDARY) {
  const parts: { headers: ReadonlyMap<string, string>; bytes: Buffer }[] = [];
  await forEachPart(source, boundary, async (part) => {
    parts.push({ headers: part.headers, bytes: await collect(part) });
  });
  return parts;
}

describe('forEachPart', () => {
  // Binary data full of CR, LF, "--" and the boundary itself, never as CRLF--boundary.
  const tricky = Buffer.concat([
    Buffer.from(`\r\r\n-\r\n--\r\n-${BOUNDARY}--${BOUNDARY}\n--${BOUNDARY}\r--${BOUNDARY}\r\n-`),
    randomBytes(300),
    Buffer.from('\r\n--b0undary'),
  ]);
  const parts = [tricky, Buffer.alloc(0), randomBytes(1000), Buffer.from(`${CRLF}${CRLF}`)];
  const whole = body(parts, { preamble: 'a preamble\r\n', epilogue: 'epilogue\r\n--junk' });

  it('splits a body at every byte position into the same parts', async () => {
    for (let split = 0; split <= whole.length; split += 1) {
      const source = Readable.from([whole.subarray(0, split), whole.subarray(split)]);
      const found = await parse(source);
      if (!sameParts(found, parts)) throw new Error(`split at ${split}: parts differ`);
    }
  });

  it('reads a body fed one byte at a time and in odd chunk sizes', async () => {
    for (const sizes of [[1], [2, 3], [7, 1, 64], [4096]]) {
      const found = await parse(chunks(whole, sizes));
      expect(found.map((part) => part.bytes)).toEqual(parts);
    }
  });

  it('reads part headers (case, folding, repeats) and a part without headers', async () => {
    const raw = Buffer.from(
      `--${BOUNDARY}  \t${CRLF}CONTENT-TYPE: application/dicom;\r\n transfer-syntax=1.2.840.10008.1.2.1${CRLF}X-A: 1${CRLF}x-a: 2${CRLF}${CRLF}one` +
        `${CRLF}--${BOUNDARY}${CRLF}${CRLF}two${CRLF}--${BOUNDARY}--`,
    );
    const found = await parse(chunks(raw, [5]));
    expect(found[0].headers.get('content-type')).toBe(
      'application/dicom; transfer-syntax=1.2.840.10008.1.2.1',
    );
    expect(found[0].headers.get('x-a')).toBe('1, 2');
    expect(found[1].headers.size).toBe(0);
    expect(found.map((part) => part.bytes.toString())).toEqual(['one', 'two']);
  });

  it('numbers parts in body order when one chunk holds several of them', async () => {
    const numbers: number[] = [];
    await forEachPart(
      chunks(body([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]), [4096]),
      BOUNDARY,
      async (part) => {
        numbers.push(part.number);
        await collect(part);
      },
    );
    expect(numbers).toEqual([1, 2, 3]);
  });

  it('takes a header named __proto__ as a header (dicer throws out of write())', async () => {
    const raw = Buffer.from(`--${BOUNDARY}${CRLF}__proto__: x${CRLF}${CRLF}data${CRLF}--${BOUNDARY}--`);
    const found = await parse(chunks(raw, [3]));
    expect(found[0].headers.get('__proto__')).toBe('x');
  });

  it('streams many parts and big parts', async () => {
    const many = Array.from({ length: 500 }, (_, index) => randomBytes(index % 50));
    expect((await parse(chunks(body(many), [977]))).map((part) => part.bytes)).toEqual(many);
    const big = [randomBytes(20 * 1024 * 1024), randomBytes(3 * 1024 * 1024)];
    const found = await parse(chunks(body(big), [65536]));
    // Buffer#equals: jest's toEqual walks 20 MB byte by byte for minutes
    expect(found.map((part, index) => part.bytes.equals(big[index]))).toEqual([true, true]);
  });

  it('reads the source only as fast as the part is read (back-pressure)', async () => {
    const size = 16 * 1024 * 1024;
    let yielded = 0;
    const source = (async function* () {
      for await (const chunk of chunks(body([randomBytes(size)]), [65536])) {
        yielded += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    })();
    let maxAhead = 0;
    await forEachPart(source, BOUNDARY, async (part) => {
      let written = 0;
      const slowDisk = new Writable({
        highWaterMark: 16 * 1024,
        write(chunk: Buffer, _encoding, done) {
          written += chunk.length;
          maxAhead = Math.max(maxAhead, yielded - written);
          setImmediate(done);
        },
      });
      await pipeline(part.body, slowDisk);
    });
    // the part's 256 KiB buffer, a chunk in hand, one in the scanner
    expect(maxAhead).toBeLessThan(512 * 1024);
  });

  it('drops what a handler leaves unread and goes on with the next part', async () => {
    const found: string[] = [];
    await forEachPart(
      chunks(body([randomBytes(2_000_000), Buffer.from('second')]), [1000]),
      BOUNDARY,
      async (part) => {
        if (part.number === 1) return;
        found.push((await collect(part)).toString());
      },
    );
    expect(found).toEqual(['second']);
  });

  async function failure(raw: Buffer, sizes: readonly number[] = [4]): Promise<MultipartError> {
    const error = await parse(chunks(raw, sizes)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MultipartError);
    return error as MultipartError;
  }

  it('fails a body cut short, and the part in progress with it', async () => {
    const whole2 = body([Buffer.from('complete'), randomBytes(5000)]);
    const cut = whole2.subarray(0, whole2.length - 2000);
    const seen: { bytes?: Buffer; error?: unknown }[] = [];
    const error = await forEachPart(chunks(cut, [100]), BOUNDARY, async (part) => {
      try {
        seen.push({ bytes: await collect(part) });
      } catch (caught) {
        seen.push({ error: caught });
      }
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: MULTIPART_TRUNCATED });
    expect((error as Error).message).toMatch(/in the middle of part 2/);
    expect(seen[0].bytes?.toString()).toBe('complete');
    expect(seen[1].error).toBe(error);
  });

  it('fails a body without a close delimiter, or without any part', async () => {
    const noClose = Buffer.from(`--${BOUNDARY}${CRLF}${CRLF}data${CRLF}`);
    expect((await failure(noClose)).code).toBe(MULTIPART_TRUNCATED);
    expect((await failure(Buffer.from('no multipart at all'))).message).toMatch(/before its first part/);
    expect((await failure(Buffer.alloc(0))).code).toBe(MULTIPART_TRUNCATED);
  });

  it('fails a delimiter followed by other characters, and a wrong boundary', async () => {
    const bad = Buffer.from(
      `--${BOUNDARY}${CRLF}${CRLF}data${CRLF}--${BOUNDARY}XYZ${CRLF}${CRLF}--${BOUNDARY}--`,
    );
    expect(await failure(bad)).toMatchObject({ code: MULTIPART_MALFORMED });
    const otherBoundary = Buffer.from(
      body([Buffer.from('x')])
        .toString()
        .replaceAll(BOUNDARY, 'other'),
    );
    expect(await failure(otherBoundary)).toMatchObject({ code: MULTIPART_TRUNCATED });
  });

  it('fails headers that never end or are not name: value', async () => {
    const endless = Buffer.concat([Buffer.from(`--${BOUNDARY}${CRLF}X: `), Buffer.alloc(20_000, 'a')]);
    expect((await failure(endless, [1000])).message).toMatch(/exceed 16384 bytes/);
    const notHeader = Buffer.from(`--${BOUNDARY}${CRLF}no colon here${CRLF}${CRLF}x${CRLF}--${BOUNDARY}--`);
    expect((await failure(notHeader)).message).toMatch(/part 1 has a malformed header/);
  });

  it('refuses a boundary RFC 2046 does not allow', async () => {
    for (const boundary of ['', 'a'.repeat(71), 'ends with space ', 'bad"quote']) {
      await expect(parse(chunks(Buffer.from('x'), [1]), boundary)).rejects.toMatchObject({
        code: MULTIPART_MALFORMED,
      });
    }
  });
});
