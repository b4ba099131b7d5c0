import { parseDataset } from './dataset-parser';
import { encodeDataset, type EncodableElement } from './dataset-encoder';
import type { DicomJsonPersonName } from './dicom-json';
import { toDicomJson, type DicomJsonOptions } from './to-dicom-json';

const PATIENT_NAME = '00100010';
const STEP_SEQUENCE = '00400100';
const STEP_DESCRIPTION = '00400007';

function element(tag: string, vr: EncodableElement['vr'], bytes: Buffer | string): EncodableElement {
  return { tag, vr, value: typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes };
}

/** A worklist-like answer: a name on top, a description inside the step sequence, both `bytes`. */
function answer(nameBytes: Buffer, descriptionBytes: Buffer, charset?: string): Buffer {
  const elements: EncodableElement[] = [
    element(PATIENT_NAME, 'PN', nameBytes),
    {
      tag: STEP_SEQUENCE,
      vr: 'SQ',
      value: Buffer.alloc(0),
      items: [[element('00080060', 'CS', 'CT'), element(STEP_DESCRIPTION, 'LO', descriptionBytes)]],
    },
  ];
  if (charset !== undefined) elements.push(element('00080005', 'CS', charset));
  return encodeDataset(elements, false);
}

function decoded(bytes: Buffer, options: DicomJsonOptions = {}): { name?: string; description?: string } {
  const json = toDicomJson(parseDataset(bytes, false), options);
  const name = json[PATIENT_NAME]?.Value?.[0] as DicomJsonPersonName | undefined;
  const item = json[STEP_SEQUENCE]?.Value?.[0] as Record<string, { Value?: unknown[] }> | undefined;
  return { name: name?.Alphabetic, description: item?.[STEP_DESCRIPTION]?.Value?.[0] as string };
}

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

describe('toDicomJson: text of each character set, in sequences too, and text that cannot be decoded', () => {
  const cases: [charset: string, name: Buffer, expected: string][] = [
    ['ISO_IR 6', Buffer.from('DOE^JOHN'), 'DOE^JOHN'],
    ['ISO_IR 100', Buffer.from('Müller^Zoë', 'latin1'), 'Müller^Zoë'],
    ['ISO_IR 101', hex('44766ff8e16b'), 'Dvořák'],
    ['ISO_IR 144', hex('bfd5e2e0ded25ebad0e2ef'), 'Петров^Катя'],
    ['ISO_IR 192', Buffer.from('Петров^Анна'), 'Петров^Анна'],
    ['GB18030', hex('cdf55ed0a1c3f7'), '王^小明'],
    ['\\ISO 2022 IR 87', hex('1b24423b3345441b28425e1b244242404f3a1b2842'), '山田^太郎'],
  ];

  it.each(cases)(
    'decodes %s declared on the data set, in its sequence items as well',
    (charset, name, expected) => {
      const undecodable: string[][] = [];
      const result = decoded(answer(name, name, charset), {
        onUndecodable: (path) => undecodable.push([...path]),
      });
      expect(result).toEqual({ name: expected, description: expected });
      expect(undecodable).toEqual([]);
    },
  );

  it.each(cases)(
    'decodes %s as the fallback when the answer declares no set (DCMTK wlmscpfs)',
    (charset, name, expected) => {
      const fallbackCharset = charset.replace(/^\\/, '');
      expect(decoded(answer(name, name), { fallbackCharset })).toEqual({
        name: expected,
        description: expected,
      });
    },
  );

  it('reports each value that is not text of its set, by tag path, and keeps it as decoded', () => {
    const undecodable: string[][] = [];
    // Latin-1 bytes declared as UTF-8: not UTF-8 at all.
    const result = decoded(
      answer(Buffer.from('Müller', 'latin1'), Buffer.from('Knie', 'latin1'), 'ISO_IR 192'),
      {
        onUndecodable: (path) => undecodable.push([...path]),
      },
    );
    expect(undecodable).toEqual([[PATIENT_NAME]]);
    expect(result.name).toBe('M\uFFFDller');
    expect(result.description).toBe('Knie');
  });

  it('reports UTF-8 bytes read by a single-byte fallback (C1 controls), inside a sequence item too', () => {
    const undecodable: string[][] = [];
    decoded(answer(Buffer.from('Петров'), Buffer.from('Колено'), undefined), {
      fallbackCharset: 'ISO_IR 100',
      onUndecodable: (path) => undecodable.push([...path]),
    });
    expect(undecodable).toEqual([[PATIENT_NAME], [STEP_SEQUENCE, STEP_DESCRIPTION]]);
  });
});
