import { Readable } from 'node:stream';
import { encodePart10Header, part10Stream } from './part10-header';
import { readPart10Meta, uidText } from './part10-meta';

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

describe('Part 10 header for a data set received without one (PS3.10 7.1)', () => {
  it('is read back by the meta reader, with the data set following it unchanged', async () => {
    const dataSet = Buffer.from('the data set bytes, never parsed');
    const file = part10Stream(
      {
        sopClassUid: CT_IMAGE_STORAGE,
        sopInstanceUid: '1.2.3.4.5',
        transferSyntaxUid: '1.2.840.10008.1.2.1',
        implementationClassUid: '1.2.3.99',
        implementationVersionName: 'PACSLINK_1',
        sourceAeTitle: 'MOD1',
      },
      Readable.from([dataSet]),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of file as AsyncIterable<Buffer>) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    const read = readPart10Meta(bytes, true);
    if (read.status !== 'complete') throw new Error(`meta not read: ${JSON.stringify(read)}`);
    expect(read.meta).toEqual({
      sopClassUid: CT_IMAGE_STORAGE,
      sopInstanceUid: '1.2.3.4.5',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
    });
    expect(read.elements.get(0x00020001)).toEqual(Buffer.from([0x00, 0x01]));
    expect(uidText(read.elements.get(0x00020012) ?? Buffer.alloc(0))).toBe('1.2.3.99');
    expect(read.elements.get(0x00020013)?.toString('latin1')).toBe('PACSLINK_1');
    expect(read.elements.get(0x00020016)?.toString('latin1')).toBe('MOD1');
    expect(bytes.subarray(read.datasetOffset)).toEqual(dataSet);
  });

  it('pads odd values, and its group length counts every meta element after it', () => {
    const header = encodePart10Header({
      sopClassUid: CT_IMAGE_STORAGE,
      sopInstanceUid: '1.2.3',
      transferSyntaxUid: '1.2.840.10008.1.2',
      implementationClassUid: '1.2.3.99',
      sourceAeTitle: 'ODD',
    });
    expect(header.subarray(128, 132).toString('latin1')).toBe('DICM');
    expect(header.readUInt32LE(140)).toBe(header.length - 144);
    expect(header.length % 2).toBe(0);
    expect(header.subarray(header.length - 4).toString('latin1')).toBe('ODD ');
  });
});
