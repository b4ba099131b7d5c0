import { DataSetRefusedError, DataSetStream } from './data-set-stream';

const EXPLICIT = '1.2.840.10008.1.2.1';

/** Writes `bytes` one byte at a time; answers what came out, or the error the stream failed with. */
async function through(transferSyntaxUid: string, bytes: Buffer): Promise<Buffer | Error> {
  const stream = new DataSetStream(transferSyntaxUid, 1024);
  const out: Buffer[] = [];
  const done = new Promise<Buffer | Error>((resolve) => {
    stream.on('data', (chunk: Buffer) => out.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(out)));
    stream.on('error', (error) => resolve(error));
  });
  for (const byte of bytes) stream.write(Buffer.of(byte));
  stream.end();
  return done;
}

/** The fragments `stream` passes on, as it passes them. */
async function passed(stream: DataSetStream): Promise<Buffer[]> {
  const fragments: Buffer[] = [];
  for await (const fragment of stream as AsyncIterable<Buffer>) fragments.push(fragment);
  return fragments;
}

describe('DataSetStream', () => {
  const sopClass = Buffer.from('0800160055491a00312e322e3834302e31303030382e352e312e342e312e312e3200', 'hex');

  it('passes a data set through unchanged, whatever its fragments', async () => {
    expect(await through(EXPLICIT, sopClass)).toEqual(sopClass);
  });

  it.each([
    ['a File Meta element', '020010005549', '(0002,0010)'],
    ['a command element', '000000005544', '(0000,0000)'],
    ['a DICOMDIR element', '04003012', '(0004,1230)'],
  ])('refuses a data set that starts with %s', async (_what, hex, tag) => {
    const error = await through(EXPLICIT, Buffer.concat([Buffer.from(hex, 'hex'), sopClass]));
    expect(error).toBeInstanceOf(DataSetRefusedError);
    expect((error as Error).message).toBe(`the data set starts with ${tag}, not a data set element`);
  });

  it('leaves a deflated data set (PS3.5 A.5) alone: its first bytes are not a tag', async () => {
    const deflated = Buffer.from('0200aabbccdd', 'hex');
    expect(await through('1.2.840.10008.1.2.1.99', deflated)).toEqual(deflated);
  });

  it('copies no fragment to check the first tag: only the bytes of a tag split across fragments', async () => {
    const concat = jest.spyOn(Buffer, 'concat');
    const copied = (): number =>
      concat.mock.results.reduce((sum, result) => sum + (result.value as Buffer).length, 0);
    try {
      const fragment = Buffer.concat([sopClass, Buffer.alloc(256 * 1024)]);
      concat.mockClear();
      const whole = new DataSetStream(EXPLICIT, 1024 * 1024);
      whole.end(fragment);
      expect(await passed(whole)).toEqual([fragment]);
      expect(copied()).toBe(0);

      concat.mockClear();
      const split = new DataSetStream(EXPLICIT, 1024 * 1024);
      split.write(fragment.subarray(0, 1));
      split.end(fragment.subarray(1));
      expect(Buffer.concat(await passed(split))).toEqual(fragment);
      // The first byte joined with the three the tag still needs, not with the 256 KB fragment.
      expect(copied() - fragment.length).toBe(4);
    } finally {
      concat.mockRestore();
    }
  });

  it('hands over the fragments that waited for a late reader one by one, not joined', async () => {
    const fragments = [
      sopClass,
      Buffer.alloc(16 * 1024, 1),
      Buffer.alloc(16 * 1024, 2),
      Buffer.alloc(100, 3),
    ];
    const stream = new DataSetStream(EXPLICIT, 1024 * 1024);
    for (const fragment of fragments) stream.write(fragment);
    stream.end();
    // The store reads after they all arrived (it was busy): each comes out as it went in.
    await new Promise((resolve) => setImmediate(resolve));
    const out = await passed(stream);
    expect(out).toHaveLength(fragments.length);
    out.forEach((fragment, index) => expect(fragment).toBe(fragments[index]));
  });

  it('passes on a data set shorter than a tag, for the store to refuse', async () => {
    expect(await through(EXPLICIT, Buffer.of(0x02))).toEqual(Buffer.of(0x02));
  });
});
