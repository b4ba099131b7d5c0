import { PART10_META_MAX_BYTES, readPart10Meta, type Part10MetaRead } from './part10-meta';

// Meta headers written byte by byte here, not by any encoder of the project.

function metaElement(element: number, vr: string, value: Buffer | string): Buffer {
  const raw =
    typeof value === 'string' ? Buffer.from(value.length % 2 ? `${value}\0` : value, 'latin1') : value;
  const long = ['OB', 'UN', 'UT'].includes(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(element, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(raw.length, 8);
  else header.writeUInt16LE(raw.length, 6);
  return Buffer.concat([header, raw]);
}

const CT = '1.2.840.10008.5.1.4.1.1.2';
const SOP_INSTANCE = '1.2.826.0.1.3680043.8.498.1';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
/** (0008,0016) UI, the first data set element */
const DATASET = Buffer.concat([
  Buffer.from([0x08, 0x00, 0x16, 0x00]),
  Buffer.from('UI'),
  Buffer.from([2, 0]),
  Buffer.from('1\0'),
]);

const META = [
  metaElement(0x0000, 'UL', Buffer.from([0x5a, 0, 0, 0])),
  metaElement(0x0001, 'OB', Buffer.from([0x00, 0x01])),
  metaElement(0x0002, 'UI', CT),
  metaElement(0x0003, 'UI', SOP_INSTANCE),
  metaElement(0x0010, 'UI', EXPLICIT_LE),
];

function part10(meta: Buffer[] = META, dataset: Buffer = DATASET): Buffer {
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), ...meta, dataset]);
}

function reasonOf(read: Part10MetaRead): string {
  if (read.status !== 'invalid') throw new Error(`expected a refusal, got ${read.status}`);
  return read.reason;
}

describe('readPart10Meta (PS3.10 7.1)', () => {
  it('reads the UIDs, every group 0002 element and where the data set starts', () => {
    const file = part10();
    const read = readPart10Meta(file, true);
    expect(read).toMatchObject({
      status: 'complete',
      meta: { sopClassUid: CT, sopInstanceUid: SOP_INSTANCE, transferSyntaxUid: EXPLICIT_LE },
      datasetOffset: file.length - DATASET.length,
    });
    if (read.status !== 'complete') return;
    expect([...read.elements.keys()]).toEqual([0x00020000, 0x00020001, 0x00020002, 0x00020003, 0x00020010]);
    expect(read.elements.get(0x00020001)).toEqual(Buffer.from([0x00, 0x01]));
  });

  it('as a stream arrives: incomplete for every prefix that ends inside the meta, then the same answer', () => {
    const file = part10();
    const whole = readPart10Meta(file, true);
    const metaEnd = file.length - DATASET.length;
    // two bytes of the next element tell its group: only then has the meta ended
    for (let length = 0; length <= metaEnd + 1; length++) {
      const read = readPart10Meta(file.subarray(0, length), false);
      expect(read.status).toBe('incomplete');
    }
    expect(readPart10Meta(file.subarray(0, metaEnd + 2), false)).toEqual(whole);
  });

  it('a file that is only its meta has its data set offset at its end', () => {
    const file = part10(META, Buffer.alloc(0));
    expect(readPart10Meta(file, true)).toMatchObject({ status: 'complete', datasetOffset: file.length });
  });

  it.each([
    [
      'without "DICM"',
      Buffer.concat([Buffer.alloc(128), Buffer.from('DICX'), ...META]),
      'not a DICOM Part 10 file: no "DICM" after the 128-byte preamble (PS3.10 7.1)',
    ],
    [
      'shorter than the preamble',
      Buffer.from('hello'),
      'not a DICOM Part 10 file: 5 bytes, shorter than the 128-byte preamble and "DICM" (PS3.10 7.1)',
    ],
    [
      'without a transfer syntax',
      part10(META.slice(0, 4)),
      'the file meta information lacks (0002,0010) TransferSyntaxUID (PS3.10 7.1)',
    ],
    [
      'with empty Media Storage UIDs',
      part10([metaElement(0x0002, 'UI', ''), metaElement(0x0003, 'UI', '\0\0'), META[4]]),
      'the file meta information lacks (0002,0002) MediaStorageSOPClassUID, (0002,0003) MediaStorageSOPInstanceUID (PS3.10 7.1)',
    ],
    [
      'cut inside an element',
      part10().subarray(0, 128 + 4 + 12 + 14 + 8 + 5),
      'the file ends inside its file meta information (element (0002,0002))',
    ],
    [
      'cut inside an element header',
      part10().subarray(0, 128 + 4 + 3),
      'the file ends inside its file meta information (an element header)',
    ],
    [
      'with VR bytes that are not letters',
      part10([META[0], Buffer.from([0x02, 0x00, 0x01, 0x00, 0x01, 0x02, 0x02, 0x00, 0x00, 0x01])]),
      'malformed file meta information: element (0002,0001) has no valid VR (found bytes 0102)',
    ],
    [
      'with an undefined length',
      part10([
        Buffer.concat([
          Buffer.from([0x02, 0x00, 0x01, 0x00]),
          Buffer.from('OB'),
          Buffer.alloc(2),
          Buffer.alloc(4, 0xff),
        ]),
      ]),
      'file meta information element (0002,0001) has an undefined length',
    ],
  ])('refuses a file %s, saying why', (_, file, reason) => {
    expect(reasonOf(readPart10Meta(file, true))).toBe(reason);
  });

  it(`refuses a meta header longer than ${PART10_META_MAX_BYTES} bytes rather than buffer more`, () => {
    const huge = part10([metaElement(0x0001, 'OB', Buffer.alloc(PART10_META_MAX_BYTES)), ...META.slice(2)]);
    expect(readPart10Meta(huge.subarray(0, PART10_META_MAX_BYTES - 1), false)).toEqual({
      status: 'incomplete',
    });
    expect(reasonOf(readPart10Meta(huge.subarray(0, PART10_META_MAX_BYTES), false))).toBe(
      `file meta information longer than ${PART10_META_MAX_BYTES} bytes`,
    );
  });
});
