import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeText } from './character-sets';
import { encodeDataset } from './dicom-writer';
import { generateStudy, type GeneratedStudy } from './study-generator';
import { Tag } from './tags';
import { SopClass, TransferSyntax } from './uids';
import { generateWorklist } from './worklist-generator';

// An independent little reader for the checks: Explicit VR Little Endian, defined lengths only.
interface ParsedElement {
  tag: number;
  vr: string;
  value: Buffer;
  items?: ParsedElement[][];
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function parseElements(bytes: Buffer, start: number, end: number): ParsedElement[] {
  const elements: ParsedElement[] = [];
  let offset = start;
  while (offset < end) {
    const tag = ((bytes.readUInt16LE(offset) << 16) | bytes.readUInt16LE(offset + 2)) >>> 0;
    const vr = bytes.toString('latin1', offset + 4, offset + 6);
    const long = LONG_VRS.has(vr);
    const length = long ? bytes.readUInt32LE(offset + 8) : bytes.readUInt16LE(offset + 6);
    const valueStart = offset + (long ? 12 : 8);
    if (length === 0xffffffff) throw new Error(`undefined length at ${offset}`);
    if (valueStart + length > end) throw new Error(`element ${tag.toString(16)} overruns its container`);
    const value = bytes.subarray(valueStart, valueStart + length);
    elements.push({
      tag,
      vr,
      value,
      items: vr === 'SQ' ? parseItems(bytes, valueStart, valueStart + length) : undefined,
    });
    offset = valueStart + length;
  }
  if (offset !== end) throw new Error(`elements end at ${offset}, container at ${end}`);
  return elements;
}

function parseItems(bytes: Buffer, start: number, end: number): ParsedElement[][] {
  const items: ParsedElement[][] = [];
  for (let offset = start; offset < end;) {
    expect([bytes.readUInt16LE(offset), bytes.readUInt16LE(offset + 2)]).toEqual([0xfffe, 0xe000]);
    const length = bytes.readUInt32LE(offset + 4);
    items.push(parseElements(bytes, offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return items;
}

interface ParsedFile {
  bytes: Buffer;
  groupLength: number;
  metaEnd: number;
  meta: ParsedElement[];
  dataset: ParsedElement[];
}

async function parseFile(file: string): Promise<ParsedFile> {
  const bytes = await readFile(file);
  const groupLengthElement = parseElements(bytes, 132, 144)[0];
  const groupLength = groupLengthElement.value.readUInt32LE(0);
  const metaEnd = 144 + groupLength;
  return {
    bytes,
    groupLength,
    metaEnd,
    meta: [groupLengthElement, ...parseElements(bytes, 144, metaEnd)],
    dataset: parseElements(bytes, metaEnd, bytes.length),
  };
}

function find(elements: ParsedElement[], tag: number): ParsedElement {
  const element = elements.find((e) => e.tag === tag);
  if (!element) throw new Error(`no element ${tag.toString(16).padStart(8, '0')}`);
  return element;
}

const text = (element: ParsedElement): string => element.value.toString('latin1');
const uid = (element: ParsedElement): string => text(element).replace(/\0$/, '');

function allUids(study: GeneratedStudy): string[] {
  return [
    study.studyInstanceUid,
    ...study.series.flatMap((s) => [s.seriesInstanceUid, ...s.instances.map((i) => i.sopInstanceUid)]),
  ];
}

describe('generateStudy', () => {
  let outDir: string;
  beforeEach(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'pacslink-gen-'));
  });
  afterEach(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('writes Part 10 files: preamble, DICM, correct group length, Explicit VR LE to the last byte', async () => {
    const study = await generateStudy(outDir, { series: 2, instancesPerSeries: 2, rows: 16, cols: 24 });

    expect(study.files).toHaveLength(4);
    for (const file of study.files) {
      const parsed = await parseFile(file);
      expect(parsed.bytes.subarray(0, 128).every((b) => b === 0)).toBe(true);
      expect(parsed.bytes.toString('latin1', 128, 132)).toBe('DICM');
      // (0002,0000) counts the bytes after itself up to the first element outside group 0002
      expect(parsed.meta.every((e) => e.tag >>> 16 === 0x0002)).toBe(true);
      expect(parsed.dataset[0].tag >>> 16).not.toBe(0x0002);
      const metaBytes = parsed.meta
        .slice(1)
        .reduce((sum, e) => sum + 8 + (LONG_VRS.has(e.vr) ? 4 : 0) + e.value.length, 0);
      expect(parsed.groupLength).toBe(metaBytes);
      expect(uid(find(parsed.meta, Tag.TransferSyntaxUID))).toBe(TransferSyntax.ExplicitVRLittleEndian);
      expect(uid(find(parsed.meta, Tag.MediaStorageSOPClassUID))).toBe(SopClass.CTImageStorage);
      expect(uid(find(parsed.meta, Tag.MediaStorageSOPInstanceUID))).toBe(
        uid(find(parsed.dataset, Tag.SOPInstanceUID)),
      );
      const tags = parsed.dataset.map((e) => e.tag);
      expect(tags).toEqual([...tags].sort((a, b) => a - b));
      expect(find(parsed.dataset, Tag.Rows).value.readUInt16LE(0)).toBe(16);
      expect(find(parsed.dataset, Tag.Columns).value.readUInt16LE(0)).toBe(24);
      expect(find(parsed.dataset, Tag.PixelData).value.length).toBe(16 * 24 * 2);
      expect(parsed.bytes.length).toBe(
        study.series.flatMap((s) => s.instances).find((i) => i.file === file)?.bytes,
      );
    }
  });

  it('gives every call fresh 2.25 UIDs and writes the returned ones into the files', async () => {
    const first = await generateStudy(outDir, { series: 2, instancesPerSeries: 3 });
    const second = await generateStudy(outDir, { series: 2, instancesPerSeries: 3 });
    const uids = [...allUids(first), ...allUids(second)];

    expect(uids).toHaveLength(2 * (1 + 2 + 6));
    expect(new Set(uids).size).toBe(uids.length);
    for (const value of uids) {
      expect(value).toMatch(/^2\.25\.(0|[1-9]\d*)$/);
      expect(value.length).toBeLessThanOrEqual(64);
    }
    for (const study of [first, second]) {
      for (const series of study.series) {
        for (const instance of series.instances) {
          const { dataset } = await parseFile(instance.file);
          expect(uid(find(dataset, Tag.StudyInstanceUID))).toBe(study.studyInstanceUid);
          expect(uid(find(dataset, Tag.SeriesInstanceUID))).toBe(series.seriesInstanceUid);
          expect(uid(find(dataset, Tag.SOPInstanceUID))).toBe(instance.sopInstanceUid);
        }
      }
    }
  });

  it('encodes an ISO_IR 144 patient name as ISO-8859-5 bytes', async () => {
    const study = await generateStudy(outDir, { patient: { name: 'Иванов^Иван', charset: 'ISO_IR 144' } });
    const { dataset } = await parseFile(study.files[0]);

    expect(text(find(dataset, Tag.SpecificCharacterSet))).toBe('ISO_IR 144');
    // И в а н о в ^ И в а н, then the space that pads the odd length
    expect([...find(dataset, Tag.PatientName).value]).toEqual([
      0xb8, 0xd2, 0xd0, 0xdd, 0xde, 0xd2, 0x5e, 0xb8, 0xd2, 0xd0, 0xdd, 0x20,
    ]);
  });

  it('encodes ISO_IR 100 as Latin-1, ISO_IR 192 as UTF-8, and writes no (0008,0005) for ASCII', async () => {
    const latin1 = await parseFile(
      (await generateStudy(outDir, { patient: { charset: 'ISO_IR 100' } })).files[0],
    );
    const utf8 = await parseFile(
      (await generateStudy(outDir, { patient: { charset: 'ISO_IR 192' } })).files[0],
    );
    const ascii = await parseFile((await generateStudy(outDir, { patient: { name: 'Doe^John' } })).files[0]);

    expect(find(latin1.dataset, Tag.PatientName).value).toEqual(Buffer.from('Müller^Jürgen ', 'latin1'));
    expect(find(utf8.dataset, Tag.PatientName).value).toEqual(Buffer.from('Петрова^Анна^Сергеевна', 'utf8'));
    expect(ascii.dataset.some((e) => e.tag === Tag.SpecificCharacterSet)).toBe(false);
    expect(text(find(ascii.dataset, Tag.PatientName))).toBe('Doe^John');
    await expect(generateStudy(outDir, { patient: { name: 'Иванов^Иван' } })).rejects.toThrow(/ASCII/);
  });

  it('pads odd-length values per VR: NUL for UI and OB, space for text', async () => {
    const bytes = Buffer.concat(
      encodeDataset([
        [Tag.SOPInstanceUID, 'UI', '1.2.3'],
        [Tag.PatientID, 'LO', 'abc'],
        [Tag.PatientName, 'PN', 'Doe^Jo'],
        [Tag.StudyID, 'SH', ''],
        [Tag.FileMetaInformationVersion, 'OB', Uint8Array.of(1, 2, 3)],
      ]),
    );
    const elements = parseElements(bytes, 0, bytes.length);

    expect(find(elements, Tag.SOPInstanceUID).value).toEqual(Buffer.from('1.2.3\0', 'latin1'));
    expect(find(elements, Tag.PatientID).value).toEqual(Buffer.from('abc ', 'latin1'));
    expect(find(elements, Tag.PatientName).value).toEqual(Buffer.from('Doe^Jo', 'latin1'));
    expect(find(elements, Tag.StudyID).value).toHaveLength(0);
    expect([...find(elements, Tag.FileMetaInformationVersion).value]).toEqual([1, 2, 3, 0]);

    const study = await generateStudy(outDir, {
      series: 1,
      instancesPerSeries: 4,
      patient: { charset: 'ISO_IR 144' },
    });
    for (const file of study.files) {
      const { meta, dataset } = await parseFile(file);
      for (const element of [...meta, ...dataset]) {
        expect(element.value.length % 2).toBe(0);
        if (element.vr === 'UI') expect(element.value.includes(0x20)).toBe(false);
        if (['PN', 'LO', 'SH', 'CS', 'DS', 'IS', 'DA', 'TM'].includes(element.vr)) {
          expect(element.value.includes(0x00)).toBe(false);
        }
      }
    }
  });

  it('sizes instances from instanceBytes with 16-bit pixels', async () => {
    const small = await generateStudy(outDir, { instanceBytes: 9_400, instancesPerSeries: 2 });
    const large = await generateStudy(outDir, { instanceBytes: 524_288 });

    for (const instance of small.series[0].instances)
      expect(Math.abs(instance.bytes - 9_400)).toBeLessThan(100);
    expect(Math.abs(large.totalBytes - 524_288)).toBeLessThan(1_024);
    const parsed = await parseFile(large.files[0]);
    expect(find(parsed.dataset, Tag.PixelData).value.length).toBe(large.rows * large.cols * 2);
    expect(find(parsed.dataset, Tag.BitsAllocated).value.readUInt16LE(0)).toBe(16);
    await expect(generateStudy(outDir, { instanceBytes: 100 })).rejects.toThrow(/minimum/);
  });
});

describe('encodeText', () => {
  it('matches the platform ISO-8859-5 decoder for every byte it produces', () => {
    const decoder = new TextDecoder('iso-8859-5');
    for (let byte = 0xa0; byte <= 0xff; byte++) {
      const char = decoder.decode(Uint8Array.of(byte));
      expect([...encodeText(char, 'ISO_IR 144')]).toEqual([byte]);
    }
  });

  it('refuses characters the declared set cannot carry', () => {
    expect(() => encodeText('Жанна', 'ISO_IR 100')).toThrow(/ISO_IR 100/);
    expect(() => encodeText('Zoë', 'ISO_IR 144')).toThrow(/ISO_IR 144/);
    expect(() => encodeText('\u0085', 'ISO_IR 100')).toThrow();
  });
});

describe('generateWorklist', () => {
  let outDir: string;
  beforeEach(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'pacslink-wl-'));
  });
  afterEach(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('writes a .wl Part 10 file whose sequence item inherits the ISO_IR 144 encoding', async () => {
    const worklist = await generateWorklist(outDir, {
      patient: { charset: 'ISO_IR 144' },
      accessionNumber: 'ACC1',
    });
    const { meta, dataset } = await parseFile(worklist.file);

    expect(worklist.file.endsWith('ACC1.wl')).toBe(true);
    expect(uid(find(meta, Tag.MediaStorageSOPClassUID))).toBe(SopClass.ModalityWorklistInformationModelFind);
    expect(text(find(dataset, Tag.AccessionNumber))).toBe('ACC1');
    expect(find(dataset, Tag.PatientName).value).toEqual(
      Buffer.from([0xb8, 0xd2, 0xd0, 0xdd, 0xde, 0xd2, 0x5e, 0xb8, 0xd2, 0xd0, 0xdd, 0x20]),
    );
    const [item] = find(dataset, Tag.ScheduledProcedureStepSequence).items ?? [];
    expect(text(find(item, Tag.ScheduledStationAETitle))).toBe('NODESCU ');
    // Лаборант^Нина in ISO-8859-5
    expect(find(item, Tag.ScheduledPerformingPhysicianName).value).toEqual(
      Buffer.from([0xbb, 0xd0, 0xd1, 0xde, 0xe0, 0xd0, 0xdd, 0xe2, 0x5e, 0xbd, 0xd8, 0xdd, 0xd0, 0x20]),
    );
  });
});
