import { MAX_IMPORT_INSTANCES } from '@pacslink/contracts';
import type { DicomJson } from '@pacslink/dicom';
import { manifestOf, onlySopClassOf } from './import-manifest';
import { ImportPlanError } from './import-plan.errors';

const CT = '1.2.840.10008.5.1.4.1.1.2';

function match(sop?: string, series?: string, sopClass?: string): DicomJson {
  const json: DicomJson = {};
  if (sop !== undefined) json['00080018'] = { vr: 'UI', Value: [sop] };
  if (series !== undefined) json['0020000E'] = { vr: 'UI', Value: [series] };
  if (sopClass !== undefined) json['00080016'] = { vr: 'UI', Value: [sopClass] };
  return json;
}

const MR = '1.2.840.10008.5.1.4.1.1.4';

describe('onlySopClassOf', () => {
  const study = (...classes: string[]): DicomJson => ({ '00080062': { vr: 'UI', Value: classes } });

  it('is the class when SOPClassesInStudy names exactly one', () => {
    expect(onlySopClassOf(study(CT))).toBe(CT);
  });

  it('is undefined for none, several, a bad UID, or no such attribute: the plan asks each instance', () => {
    expect(onlySopClassOf(study())).toBeUndefined();
    expect(onlySopClassOf(study(CT, MR))).toBeUndefined();
    expect(onlySopClassOf(study('not a uid'))).toBeUndefined();
    expect(onlySopClassOf({})).toBeUndefined();
  });
});

describe('manifestOf', () => {
  it("gives every instance the study's one class when its answer has none", () => {
    expect(manifestOf([match('1.2.1', '1.2'), match('1.2.2', '1.2', MR)], CT)).toEqual([
      { sopInstanceUid: '1.2.1', seriesInstanceUid: '1.2', sopClassUid: CT },
      { sopInstanceUid: '1.2.2', seriesInstanceUid: '1.2', sopClassUid: MR },
    ]);
  });

  it('lists every instance once, with its series and SOP class', () => {
    expect(
      manifestOf([match('1.2.1', '1.2', CT), match('1.2.2', '1.2', CT), match('1.2.1', '1.2', CT)]),
    ).toEqual([
      { sopInstanceUid: '1.2.1', seriesInstanceUid: '1.2', sopClassUid: CT },
      { sopInstanceUid: '1.2.2', seriesInstanceUid: '1.2', sopClassUid: CT },
    ]);
  });

  it('an answer without its SOP Instance or Series UID fails the plan, naming the key and the answer', () => {
    expect(() => manifestOf([match('1.2.1', '1.2', CT), match('1.2.2', undefined, CT)])).toThrow(
      new ImportPlanError(
        "the PACS's C-FIND answer 2 at IMAGE level has no valid SeriesInstanceUID (0020,000E): the import needs it for every instance",
      ),
    );
    expect(() => manifestOf([match(undefined, 'x.y', CT)])).toThrow(
      /answer 1 at IMAGE level has no valid SOPInstanceUID \(0008,0018\), SeriesInstanceUID \(0020,000E\)/,
    );
  });

  it('an answer without SOPClassUID (an optional return key) lists the instance without a class', () => {
    expect(manifestOf([match('1.2.1', '1.2', CT), match('1.2.2', '1.2')])).toEqual([
      { sopInstanceUid: '1.2.1', seriesInstanceUid: '1.2', sopClassUid: CT },
      { sopInstanceUid: '1.2.2', seriesInstanceUid: '1.2' },
    ]);
  });

  it(`more than MAX_IMPORT_INSTANCES (${MAX_IMPORT_INSTANCES}) instances fail the plan, naming the limit`, () => {
    const matches = Array.from({ length: MAX_IMPORT_INSTANCES + 1 }, (_, n) => match(`1.2.${n}`, '1.2', CT));
    expect(() => manifestOf(matches)).toThrow(
      /more than 50000 instances.*at most 50000 \(MAX_IMPORT_INSTANCES\)/,
    );
    expect(manifestOf(matches.slice(0, MAX_IMPORT_INSTANCES))).toHaveLength(MAX_IMPORT_INSTANCES);
  });
});
