import { parseDataset, encodeDataset, type EncodableElement } from '@pacslink/dicom';
import { DimseError, DimseErrorCode } from '../dimse.errors';
import { buildWorklistIdentifier, type WorklistIdentifierQuery } from './worklist-identifier';

/** tag → [VR, value as latin1 text]; the step sequence's item as a nested view. */
function view(elements: readonly EncodableElement[]): Record<string, unknown> {
  return Object.fromEntries(
    elements.map((element) => [
      element.tag,
      element.vr === 'SQ'
        ? ['SQ', (element.items ?? []).map(view)]
        : [element.vr, element.value.toString('latin1')],
    ]),
  );
}

function problem(query: WorklistIdentifierQuery): string {
  try {
    buildWorklistIdentifier(query);
  } catch (error) {
    expect(error).toBeInstanceOf(DimseError);
    expect((error as DimseError).code).toBe(DimseErrorCode.INVALID_REQUEST);
    return (error as DimseError).message;
  }
  throw new Error('expected an INVALID_REQUEST');
}

describe('buildWorklistIdentifier: the Modality Worklist keys (PS3.4 K.6-1), nothing else', () => {
  it('asks for every worklist key, the step keys inside one Scheduled Procedure Step Sequence item', () => {
    expect(view(buildWorklistIdentifier({}))).toEqual({
      '00100010': ['PN', ''],
      '00100020': ['LO', ''],
      '00100030': ['DA', ''],
      '00100040': ['CS', ''],
      '00080050': ['SH', ''],
      '00401001': ['SH', ''],
      '00321060': ['LO', ''],
      '0020000D': ['UI', ''],
      '00400100': [
        'SQ',
        [
          {
            '00080060': ['CS', ''],
            '00400001': ['AE', ''],
            '00400002': ['DA', ''],
            '00400003': ['TM', ''],
            '00400007': ['LO', ''],
            '00400009': ['SH', ''],
          },
        ],
      ],
    });
  });

  it('puts the step filters (date range, modality, station AE) inside the item, ASCII without (0008,0005)', () => {
    const elements = buildWorklistIdentifier({
      stepKeys: {
        ScheduledProcedureStepStartDate: '20260101-20260131',
        Modality: 'CT',
        ScheduledStationAETitle: 'CT_ROOM_1',
      },
    });
    const item = (view(elements)['00400100'] as [string, Record<string, unknown>[]])[1][0];
    expect(item).toMatchObject({
      '00400002': ['DA', '20260101-20260131'],
      '00080060': ['CS', 'CT'],
      '00400001': ['AE', 'CT_ROOM_1'],
    });
    expect(view(elements)['00080005']).toBeUndefined();
    // It encodes and parses back as one sequence with one item (Implicit VR needs the dictionary).
    const parsed = parseDataset(encodeDataset(elements, false), false);
    expect(parsed.find((element) => element.tag === '00400100')?.items).toHaveLength(1);
  });

  it('declares and encodes in the PACS character set only when a value needs it', () => {
    const elements = buildWorklistIdentifier({
      keys: { PatientName: 'Петров*' },
      queryCharset: 'ISO_IR 144',
    });
    const name = elements.find((element) => element.tag === '00100010');
    expect(name?.value).toEqual(Buffer.from('bfd5e2e0ded22a', 'hex'));
    expect(view(elements)['00080005']).toEqual(['CS', 'ISO_IR 144']);
  });

  it('refuses a key the worklist model (or this client) does not ask for, a step key on top, and an unencodable value', () => {
    expect(problem({ keys: { StudyDate: '20260101' } as never })).toMatch(
      /StudyDate is not a Modality Worklist key/,
    );
    expect(problem({ keys: { Modality: 'CT' } as never })).toMatch(/Modality is not a Modality Worklist key/);
    expect(problem({ stepKeys: { ScheduledProcedureStepStartDate: 'bad\n' } })).toMatch(/control character/);
    expect(problem({ keys: { PatientName: '王' }, queryCharset: 'ISO_IR 144' })).toMatch(
      /PatientName has "王", which ISO_IR 144 cannot encode/,
    );
  });
});
