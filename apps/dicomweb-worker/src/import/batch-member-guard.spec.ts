import { encodePart10 } from '@pacslink/testing';
import { NotInBatchError, onlyBatchMembers } from './batch-member-guard';

const CT = '1.2.840.10008.5.1.4.1.1.2';

/** A Part 10 instance, fed a few bytes at a time (the meta header split over many chunks). */
function chunksOf(sopInstanceUid: string, size = 7): Buffer[] {
  const bytes = Buffer.concat(
    encodePart10(
      [
        [0x00080016, 'UI', CT],
        [0x00080018, 'UI', sopInstanceUid],
        [0x7fe00010, 'OB', new Uint8Array(1000)],
      ],
      { sopClassUid: CT, sopInstanceUid },
    ),
  );
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size)
    chunks.push(bytes.subarray(offset, offset + size));
  return chunks;
}

async function* source(chunks: readonly Buffer[], read: { count: number }): AsyncGenerator<Buffer> {
  for (const chunk of chunks) {
    // one chunk per turn of the event loop, as a socket gives them
    await new Promise(setImmediate);
    read.count += 1;
    yield chunk;
  }
}

async function drain(stream: AsyncIterable<Buffer>, passed: Buffer[]): Promise<void> {
  for await (const chunk of stream) passed.push(chunk);
}

describe('onlyBatchMembers', () => {
  it('passes an instance the batch names on, byte for byte', async () => {
    const chunks = chunksOf('1.2.3.4');
    const passed: Buffer[] = [];
    await drain(
      onlyBatchMembers(source(chunks, { count: 0 }), (uid) => uid === '1.2.3.4'),
      passed,
    );
    expect(Buffer.concat(passed).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('stops another instance once its meta header is read, before any byte of its data set goes on', async () => {
    const chunks = chunksOf('1.2.3.5');
    const passed: Buffer[] = [];
    const read = { count: 0 };
    const guarded = drain(
      onlyBatchMembers(source(chunks, read), (uid) => uid === '1.2.3.4'),
      passed,
    );
    await expect(guarded).rejects.toThrow(new NotInBatchError('1.2.3.5'));
    await expect(guarded).rejects.toMatchObject({ sopInstanceUid: '1.2.3.5' });
    // the chunk that completed the meta header is not passed on, nor anything after it
    const metaEnd = 132 + 12 + Buffer.concat(chunks).readUInt32LE(140);
    expect(Buffer.concat(passed).length).toBeLessThan(metaEnd);
    expect(read.count).toBeLessThan(chunks.length);
  });

  it('passes on what has no readable meta header unchecked: the store refuses it with its own reason', async () => {
    const passed: Buffer[] = [];
    const junk = [Buffer.from('not dicom at all, '.repeat(20))];
    await drain(
      onlyBatchMembers(source(junk, { count: 0 }), () => false),
      passed,
    );
    expect(Buffer.concat(passed).equals(junk[0])).toBe(true);
  });
});
