import type { DicomJson } from '@pacslink/dicom';
import type { WorklistMatch } from '@pacslink/dimse';
import { stepKeyOf, stepsOf, type WorklistStep } from './worklist-step';

const step = (values: Record<string, string>): DicomJson => ({
  '00080060': { vr: 'CS', Value: [values.modality ?? 'CT'] },
  '00400001': { vr: 'AE', Value: ['CT_ROOM_1'] },
  '00400002': { vr: 'DA', Value: ['20260315'] },
  '00400003': { vr: 'TM', Value: ['093000'] },
  '00400007': { vr: 'LO', Value: [values.description ?? 'КТ с контрастом'] },
  ...(values.id === undefined ? {} : { '00400009': { vr: 'SH', Value: [values.id] } }),
});

function match(steps: DicomJson[], undecodable: string[][] = [], declared = false): WorklistMatch {
  return {
    dataset: {
      ...(declared ? { '00080005': { vr: 'CS', Value: ['ISO_IR 192'] } } : {}),
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }] },
      '00100020': { vr: 'LO', Value: ['P-1'] },
      '00100030': { vr: 'DA', Value: ['19800101'] },
      '00100040': { vr: 'CS', Value: ['M'] },
      '00080050': { vr: 'SH', Value: ['A1'] },
      '00401001': { vr: 'SH', Value: ['RP1'] },
      '00321060': { vr: 'LO', Value: ['CT chest'] },
      '0020000D': { vr: 'UI', Value: ['1.2.3'] },
      '00400100': { vr: 'SQ', Value: steps },
    },
    undecodable,
  };
}

describe('worklist answers as steps', () => {
  it('takes the patient and order from the top level and the step from the sequence item', () => {
    expect(stepsOf(match([step({ id: 'SPS1' })]), 'ISO_IR 144')).toEqual<WorklistStep[]>([
      {
        patientName: 'Yamada^Tarou=山田^太郎',
        patientId: 'P-1',
        patientBirthDate: '19800101',
        patientSex: 'M',
        accessionNumber: 'A1',
        requestedProcedureId: 'RP1',
        requestedProcedureDescription: 'CT chest',
        studyInstanceUid: '1.2.3',
        scheduledProcedureStepId: 'SPS1',
        scheduledProcedureStepDescription: 'КТ с контрастом',
        modality: 'CT',
        scheduledStationAeTitle: 'CT_ROOM_1',
        scheduledStartDate: '20260315',
        scheduledStartTime: '093000',
        warnings: [],
      },
    ]);
  });

  it('makes one step of each item, none of an answer without the sequence', () => {
    const two = stepsOf(match([step({ id: 'SPS1' }), step({ id: 'SPS2', modality: 'MR' })]), 'ISO_IR 100');
    expect(two.map((each) => [each.scheduledProcedureStepId, each.modality])).toEqual([
      ['SPS1', 'CT'],
      ['SPS2', 'MR'],
    ]);
    expect(stepsOf(match([]), 'ISO_IR 100')).toEqual([]);
  });

  it('names each undecodable value by keyword path and the set it was read by', () => {
    const [undeclared] = stepsOf(match([step({})], [['00100010'], ['00400100', '00400007']]), 'ISO_IR 192');
    expect(undeclared.warnings).toEqual([
      'PatientName cannot be decoded as ISO_IR 192: it is shown as decoded, with replacement characters',
      'ScheduledProcedureStepSequence.ScheduledProcedureStepDescription cannot be decoded as ISO_IR 192: it is shown as decoded, with replacement characters',
    ]);
    const [declared] = stepsOf(match([step({})], [['00100010']], true), 'ISO_IR 100');
    expect(declared.warnings).toEqual([
      "PatientName cannot be decoded as the answer's Specific Character Set: it is shown as decoded, with replacement characters",
    ]);
  });
  it('says when the answer declared a set pacslink cannot decode, and which set read it instead', () => {
    const [read] = stepsOf({ ...match([step({})]), unsupportedCharset: ['ISO_IR 999'] }, 'ISO_IR 144');
    expect(read.warnings).toEqual([
      'the answer declares Specific Character Set ISO_IR 999, which pacslink cannot decode: its text was read as ISO_IR 144',
    ]);
  });
});

describe('stepKeyOf: the natural key of a task', () => {
  const [base] = stepsOf(match([step({ id: 'SPS1' })]), 'ISO_IR 100');

  it('is the same for the same step whatever else changed (name, description, time: updated in place)', () => {
    expect(
      stepKeyOf({ ...base, patientName: 'Other^Name', scheduledStartTime: '101500', modality: 'MR' }),
    ).toBe(stepKeyOf(base));
  });

  it('differs when the step ID, the accession or the study differs (step IDs repeat across orders)', () => {
    const keys = [
      base,
      { ...base, scheduledProcedureStepId: 'SPS2' },
      { ...base, accessionNumber: 'A2' },
      { ...base, studyInstanceUid: '1.2.4' },
      { ...base, accessionNumber: null },
    ].map(stepKeyOf);
    expect(new Set(keys).size).toBe(5);
  });

  it('is undefined for a step with none of the three: it cannot be told from another', () => {
    expect(
      stepKeyOf({ ...base, studyInstanceUid: null, accessionNumber: null, scheduledProcedureStepId: null }),
    ).toBeUndefined();
  });
});
