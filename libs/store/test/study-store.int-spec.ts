import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateStudy, runDcmtk, type GeneratedStudy, type SpecificCharacterSet } from '@pacslink/testing';
import { InvalidDicomError, StudyStore } from '../src';

const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const RLE_LOSSLESS = '1.2.840.10008.1.2.5';

/** Files written by DCMTK, not by our own writer, go through the store as they are. */
describe('StudyStore with generated and DCMTK-converted files', () => {
  let workDir: string;
  let store: StudyStore;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'study-store-int-'));
    store = new StudyStore(join(workDir, 'store'));
  });

  afterAll(() => rm(workDir, { recursive: true, force: true }));

  async function studyIn(charset: SpecificCharacterSet): Promise<GeneratedStudy> {
    return generateStudy(join(workDir, 'generated'), {
      series: 1,
      instancesPerSeries: 1,
      instanceBytes: 200_000,
      patient: { charset },
    });
  }

  async function convert(tool: string, options: string[], input: string): Promise<string> {
    const output = `${input}.${tool}${options.join('')}.dcm`;
    await runDcmtk(tool, [...options, input, output]);
    return output;
  }

  async function storesByteForByte(file: string) {
    const stored = await store.write(createReadStream(file, { highWaterMark: 16 * 1024 }));
    expect((await readFile(store.absolutePath(stored.path))).equals(await readFile(file))).toBe(true);
    return stored;
  }

  it.each(['ISO_IR 100', 'ISO_IR 144', 'ISO_IR 192'] as const)(
    'indexes a generated study in %s with its decoded names',
    async (charset) => {
      const study = await studyIn(charset);
      const stored = await storesByteForByte(study.files[0]);
      expect(stored).toMatchObject({
        studyInstanceUid: study.studyInstanceUid,
        patientName: study.patient.name,
        studyDescription: study.studyDescription,
        transferSyntaxUid: '1.2.840.10008.1.2.1',
      });
    },
  );

  it('indexes DCMTK Implicit VR Little Endian (dcmconv +ti)', async () => {
    const study = await studyIn('ISO_IR 144');
    const stored = await storesByteForByte(await convert('dcmconv', ['+ti'], study.files[0]));
    expect(stored).toMatchObject({
      studyInstanceUid: study.studyInstanceUid,
      sopInstanceUid: study.series[0].instances[0].sopInstanceUid,
      transferSyntaxUid: IMPLICIT_VR_LITTLE_ENDIAN,
      patientName: study.patient.name,
      modality: 'CT',
    });
  });

  it('indexes encapsulated Pixel Data (dcmcrle, RLE Lossless), walking its fragments to the end', async () => {
    const study = await studyIn('ISO_IR 192');
    const converted = await convert('dcmcrle', [], study.files[0]);
    const stored = await storesByteForByte(converted);
    expect(stored).toMatchObject({ transferSyntaxUid: RLE_LOSSLESS, patientName: study.patient.name });

    const cut = join(workDir, 'cut.dcm');
    const bytes = await readFile(converted);
    await writeFile(cut, bytes.subarray(0, bytes.length - 100));
    await expect(store.write(createReadStream(cut))).rejects.toThrow(
      /^truncated: the file ends inside an element/,
    );
  });

  it.each([
    ['+tb', 'Explicit VR Big Endian'],
    ['+td', 'Deflated Explicit VR Little Endian'],
  ])('refuses DCMTK output written with dcmconv %s (%s)', async (option, name) => {
    const study = await studyIn('ISO_IR 100');
    const converted = await convert('dcmconv', [option], study.files[0]);
    const refusal = store.write(createReadStream(converted));
    await expect(refusal).rejects.toThrow(InvalidDicomError);
    await expect(refusal).rejects.toThrow(name);
  });
});
