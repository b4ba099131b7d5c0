import {
  Tag,
  TransferSyntax,
  encodeDataset,
  newUid,
  SopClass,
  type DicomDataset,
  type SpecificCharacterSet,
} from '@pacslink/testing';
import { Readable } from 'node:stream';
import { part10Stream } from '@pacslink/dicom';
import { instanceAttributes, type InstanceAttributes } from './instance-attributes';
import { InvalidDicomError } from './invalid-dicom.error';
import { Part10Scanner } from './part10-scanner';

interface MetaValues {
  sopClassUid?: string;
  sopInstanceUid?: string;
  transferSyntaxUid?: string;
}

function meta(values: MetaValues): Buffer {
  const body = Buffer.concat(
    encodeDataset([
      [Tag.FileMetaInformationVersion, 'OB', Uint8Array.of(0x00, 0x01)],
      ...(values.sopClassUid ? [[Tag.MediaStorageSOPClassUID, 'UI', values.sopClassUid] as const] : []),
      ...(values.sopInstanceUid
        ? [[Tag.MediaStorageSOPInstanceUID, 'UI', values.sopInstanceUid] as const]
        : []),
      ...(values.transferSyntaxUid ? [[Tag.TransferSyntaxUID, 'UI', values.transferSyntaxUid] as const] : []),
    ]),
  );
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), body]);
}

function instance(charset?: SpecificCharacterSet, patientName = 'Doe^John') {
  const uids = { sopInstanceUid: newUid(), studyInstanceUid: newUid(), seriesInstanceUid: newUid() };
  const dataset: DicomDataset = [
    ...(charset ? [[Tag.SpecificCharacterSet, 'CS', charset] as const] : []),
    [Tag.SOPClassUID, 'UI', SopClass.CTImageStorage],
    [Tag.SOPInstanceUID, 'UI', uids.sopInstanceUid],
    [Tag.StudyDate, 'DA', '20251126'],
    [Tag.AccessionNumber, 'SH', 'A123'],
    [Tag.Modality, 'CS', 'CT'],
    [Tag.StudyDescription, 'LO', 'CT chest'],
    [Tag.PatientName, 'PN', patientName],
    [Tag.PatientID, 'LO', 'P-1'],
    [Tag.StudyInstanceUID, 'UI', uids.studyInstanceUid],
    [Tag.SeriesInstanceUID, 'UI', uids.seriesInstanceUid],
    [Tag.Rows, 'US', 2],
    [Tag.PixelData, 'OW', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)],
  ];
  return { uids, dataset };
}

function file(dataset: DicomDataset, metaValues: MetaValues): Buffer {
  return Buffer.concat([meta(metaValues), ...encodeDataset(dataset)]);
}

function validFile(charset?: SpecificCharacterSet, patientName?: string) {
  const { uids, dataset } = instance(charset, patientName);
  const bytes = file(dataset, {
    sopClassUid: SopClass.CTImageStorage,
    sopInstanceUid: uids.sopInstanceUid,
    transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
  });
  return { uids, bytes };
}

function scan(bytes: Buffer, chunkSize = bytes.length): InstanceAttributes {
  const scanner = new Part10Scanner();
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    scanner.push(bytes.subarray(offset, offset + chunkSize));
  }
  return instanceAttributes(scanner.finish());
}

function refusal(bytes: Buffer): string {
  try {
    scan(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDicomError);
    return (error as Error).message;
  }
  throw new Error('the file was accepted');
}

/** An undefined-length sequence of undefined-length items (PS3.5 7.5.2), Explicit VR LE. */
function undefinedLengthSequence(tag: number, items: DicomDataset[]): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16LE(tag >>> 16, 0);
  header.writeUInt16LE(tag & 0xffff, 2);
  header.write('SQ', 4, 'latin1');
  header.writeUInt32LE(0xffffffff, 8);
  const delimiter = (element: number) => {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt16LE(0xfffe, 0);
    bytes.writeUInt16LE(element, 2);
    return bytes;
  };
  const itemStart = Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
  const body = items.flatMap((item) => [itemStart, ...encodeDataset(item), delimiter(0xe00d)]);
  return Buffer.concat([header, ...body, delimiter(0xe0dd)]);
}

describe('Part10Scanner', () => {
  it.each([
    [undefined, 'Doe^John'],
    ['ISO_IR 100', 'Müller^Jürgen'],
    ['ISO_IR 144', 'Иванов^Иван'],
    ['ISO_IR 192', 'Петрова^Анна^Сергеевна'],
  ] as const)('indexes a file declaring %s, fed whole and byte by byte', (charset, name) => {
    const { uids, bytes } = validFile(charset, name);
    const expected: InstanceAttributes = {
      ...uids,
      sopClassUid: SopClass.CTImageStorage,
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      modality: 'CT',
      studyDate: '20251126',
      accessionNumber: 'A123',
      studyDescription: 'CT chest',
      patientName: name,
      patientId: 'P-1',
    };
    expect(scan(bytes)).toEqual(expected);
    expect(scan(bytes, 1)).toEqual(expected);
    expect(scan(bytes, 7)).toEqual(expected);
  });

  it('ignores UIDs nested in undefined-length sequences and walks past them', () => {
    const { uids, dataset } = instance();
    const nested = undefinedLengthSequence(0x00081115, [
      [[Tag.SOPInstanceUID, 'UI', newUid()]],
      [[Tag.StudyInstanceUID, 'UI', newUid()]],
    ]);
    const before = dataset.filter(([tag]) => tag < 0x00081115);
    const after = dataset.filter(([tag]) => tag > 0x00081115);
    const bytes = Buffer.concat([
      meta({
        sopClassUid: SopClass.CTImageStorage,
        sopInstanceUid: uids.sopInstanceUid,
        transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      }),
      ...encodeDataset(before),
      nested,
      ...encodeDataset(after),
    ]);
    expect(scan(bytes, 5)).toMatchObject(uids);
  });

  it('refuses a file without "DICM" after the preamble', () => {
    const { bytes } = validFile();
    bytes.write('DICX', 128, 'latin1');
    expect(refusal(bytes)).toBe(
      'not a DICOM Part 10 file: no "DICM" after the 128-byte preamble (PS3.10 7.1)',
    );
  });

  it('refuses a file shorter than the preamble', () => {
    expect(refusal(Buffer.from('hello'))).toMatch(/^not a DICOM Part 10 file: 5 bytes, shorter than/);
  });

  it.each([
    ['inside the pixel data', 4],
    ['inside an element header', 18],
  ])('refuses a file cut %s', (_, cut) => {
    const { bytes } = validFile();
    expect(refusal(bytes.subarray(0, bytes.length - cut))).toMatch(
      /^truncated: the file ends inside an element/,
    );
  });

  it('refuses a file whose dataset lacks the SOP Instance UID', () => {
    const { uids, dataset } = instance();
    const bytes = file(
      dataset.filter(([tag]) => tag !== Tag.SOPInstanceUID),
      {
        sopClassUid: SopClass.CTImageStorage,
        sopInstanceUid: uids.sopInstanceUid,
        transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      },
    );
    expect(refusal(bytes)).toBe('SOPInstanceUID (0008,0018) is missing');
  });

  it('refuses an invalid Study Instance UID, saying why', () => {
    const { uids, dataset } = instance();
    const bad = dataset.map((element) =>
      element[0] === Tag.StudyInstanceUID
        ? ([Tag.StudyInstanceUID, 'SH', '1.2/../../etc'] as const)
        : element,
    );
    const bytes = file(bad, {
      sopClassUid: SopClass.CTImageStorage,
      sopInstanceUid: uids.sopInstanceUid,
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    });
    expect(refusal(bytes)).toBe(
      'StudyInstanceUID (0020,000D) "1.2/../../etc" is not a valid UID: it may hold only digits and periods (found U+002F)',
    );
  });

  it("refuses a meta header whose Media Storage SOP Instance UID is not the dataset's", () => {
    const { uids, dataset } = instance();
    const bytes = file(dataset, {
      sopClassUid: SopClass.CTImageStorage,
      sopInstanceUid: '1.2.3',
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    });
    expect(refusal(bytes)).toBe(
      `the meta header's (0002,0003) "1.2.3" differs from the dataset's SOPInstanceUID "${uids.sopInstanceUid}"`,
    );
  });

  it('refuses a meta header without a transfer syntax', () => {
    const { uids, dataset } = instance();
    const bytes = file(dataset, {
      sopClassUid: SopClass.CTImageStorage,
      sopInstanceUid: uids.sopInstanceUid,
    });
    expect(refusal(bytes)).toBe('the file meta information lacks (0002,0010) TransferSyntaxUID (PS3.10 7.1)');
  });

  it.each([
    ['1.2.840.10008.1.2.2', 'Explicit VR Big Endian (retired, PS3.5 A.3)'],
    ['1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian'],
  ])('refuses transfer syntax %s', (transferSyntaxUid, name) => {
    const { uids, dataset } = instance();
    const bytes = file(dataset, {
      sopClassUid: SopClass.CTImageStorage,
      sopInstanceUid: uids.sopInstanceUid,
      transferSyntaxUid,
    });
    expect(refusal(bytes)).toBe(
      `transfer syntax ${transferSyntaxUid} (${name}) is not supported: send the file in Explicit or Implicit VR Little Endian`,
    );
  });

  it('refuses a File Meta element inside the dataset (PS3.10 7.1): it would be indexed as the meta header says', () => {
    const { bytes } = validFile();
    const first = bytes.indexOf(Buffer.from([0x08, 0x00, 0x16, 0x00]), 132);
    const end = first + 8 + bytes.readUInt16LE(first + 6);
    const jpegBaseline = Buffer.from('1.2.840.10008.1.2.4.50', 'latin1');
    const stray = Buffer.concat([
      Buffer.from([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, jpegBaseline.length, 0]),
      jpegBaseline,
    ]);
    expect(refusal(Buffer.concat([bytes.subarray(0, end), stray, bytes.subarray(end)]))).toBe(
      'malformed dataset: (0002,0010), a File Meta element, inside the dataset (PS3.10 7.1)',
    );
  });

  it('refuses an Explicit VR dataset whose VR bytes are not letters', () => {
    const { bytes } = validFile();
    const datasetStart = bytes.indexOf(Buffer.from([0x08, 0x00, 0x16, 0x00]), 132);
    bytes.write('\u0001\u0002', datasetStart + 4, 'latin1');
    expect(refusal(bytes)).toBe('malformed dataset: element (0008,0016) has no valid VR (found bytes 0102)');
  });

  it('copies no large chunk to finish an element begun in the chunk before, at any split', () => {
    const { uids, dataset } = instance();
    const pixels: DicomDataset = [[Tag.PixelData, 'OW', new Uint8Array(512 * 1024)]];
    const bytes = file([...dataset.slice(0, -1), ...pixels], {
      sopClassUid: SopClass.CTImageStorage,
      sopInstanceUid: uids.sopInstanceUid,
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    });
    const pixelDataAt = bytes.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]), 132);
    const concat = jest.spyOn(Buffer, 'concat');
    try {
      // Every split from inside the meta header to past the Pixel Data header: two chunks each.
      for (let split = 100; split < pixelDataAt + 16; split++) {
        concat.mockClear();
        const scanner = new Part10Scanner();
        scanner.push(bytes.subarray(0, split));
        scanner.push(bytes.subarray(split));
        expect(instanceAttributes(scanner.finish())).toMatchObject(uids);
        const copied = concat.mock.results.reduce((sum, result) => sum + (result.value as Buffer).length, 0);
        expect(copied).toBeLessThan(256 * 1024);
      }
    } finally {
      concat.mockRestore();
    }
  });

  it('joins a meta header that came as a chunk of its own with a few hundred bytes of the data set, not 128 KB', () => {
    const { uids, dataset } = instance();
    const pixels: DicomDataset = [[Tag.PixelData, 'OW', new Uint8Array(512 * 1024)]];
    const bytes = file([...dataset.slice(0, -1), ...pixels], {
      sopClassUid: SopClass.CTImageStorage,
      sopInstanceUid: uids.sopInstanceUid,
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    });
    const metaBytes = meta({
      sopClassUid: SopClass.CTImageStorage,
      sopInstanceUid: uids.sopInstanceUid,
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    }).length;
    const concat = jest.spyOn(Buffer, 'concat');
    try {
      // As the Storage SCP hands it over: part10Stream's header, then the data set's fragments.
      const scanner = new Part10Scanner();
      scanner.push(bytes.subarray(0, metaBytes));
      scanner.push(bytes.subarray(metaBytes));
      expect(instanceAttributes(scanner.finish())).toMatchObject(uids);
      const copied = concat.mock.results.reduce((sum, result) => sum + (result.value as Buffer).length, 0);
      expect(copied).toBeLessThanOrEqual(metaBytes + 512);
    } finally {
      concat.mockRestore();
    }
  });

  it('finishes a pending element longer than the first join from the rest of the chunk', () => {
    const patientName = `Doe^${'J'.repeat(3000)}`;
    const { uids, bytes } = validFile(undefined, patientName);
    const nameAt = bytes.indexOf(Buffer.from('Doe^', 'latin1'));
    for (const split of [nameAt - 8, nameAt - 2, nameAt, nameAt + 1500]) {
      const scanner = new Part10Scanner();
      scanner.push(bytes.subarray(0, split));
      scanner.push(bytes.subarray(split));
      expect(instanceAttributes(scanner.finish())).toMatchObject({ ...uids, patientName });
    }
  });

  it("indexes a data set received without a meta header once libs/dicom's part10Stream gives it one", async () => {
    const sopInstanceUid = newUid();
    const dataSet = Buffer.concat(
      encodeDataset([
        [Tag.SOPClassUID, 'UI', SopClass.CTImageStorage],
        [Tag.SOPInstanceUID, 'UI', sopInstanceUid],
        [Tag.StudyInstanceUID, 'UI', '1.2.3'],
        [Tag.SeriesInstanceUID, 'UI', '1.2.3.4'],
      ]),
    );
    const file = part10Stream(
      {
        sopClassUid: SopClass.CTImageStorage,
        sopInstanceUid,
        transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
        implementationClassUid: '1.2.3.99',
        sourceAeTitle: 'MOD1',
      },
      Readable.from([dataSet]),
    );
    const scanner = new Part10Scanner();
    for await (const chunk of file as AsyncIterable<Buffer>) scanner.push(chunk);
    expect(instanceAttributes(scanner.finish())).toMatchObject({
      sopClassUid: SopClass.CTImageStorage,
      sopInstanceUid,
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      studyInstanceUid: '1.2.3',
    });
  });
});
