import { Readable } from 'node:stream';
import { encodeDataset, newUid } from '@pacslink/testing';
import { encodePart10Header, part10Stream } from './part10-header';
import { Part10Scanner } from './part10-scanner';
import { instanceAttributes } from './instance-attributes';

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

function dataSetOf(sopInstanceUid: string): Buffer {
  return Buffer.concat(
    encodeDataset([
      [0x00080016, 'UI', CT_IMAGE_STORAGE],
      [0x00080018, 'UI', sopInstanceUid],
      [0x0020000d, 'UI', '1.2.3'],
      [0x0020000e, 'UI', '1.2.3.4'],
    ]),
  );
}

describe('Part 10 header for a data set received without one (PS3.10 7.1)', () => {
  it('makes, with the data set after it, a file the store indexes (meta cross-checked with the data set)', async () => {
    const sopInstanceUid = newUid();
    const file = part10Stream(
      {
        sopClassUid: CT_IMAGE_STORAGE,
        sopInstanceUid,
        transferSyntaxUid: '1.2.840.10008.1.2.1',
        implementationClassUid: '1.2.3.99',
        implementationVersionName: 'PACSLINK_1',
        sourceAeTitle: 'MOD1',
      },
      Readable.from([dataSetOf(sopInstanceUid)]),
    );
    const scanner = new Part10Scanner();
    for await (const chunk of file as AsyncIterable<Buffer>) scanner.push(chunk);
    expect(instanceAttributes(scanner.finish())).toMatchObject({
      sopClassUid: CT_IMAGE_STORAGE,
      sopInstanceUid,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      studyInstanceUid: '1.2.3',
    });
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
