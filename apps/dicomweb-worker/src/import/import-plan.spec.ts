import type { DicomJson } from '@pacslink/dicom';
import { DicomwebErrorCode, type QidoQuery } from '@pacslink/dicomweb';
import { ImportPlanError, QIDO_PAGE, planImport, type QidoSearch } from './import-plan';

const STUDY = '1.2.3';
const CT = '1.2.840.10008.5.1.4.1.1.2';

function instance(n: number, series = '1.2.3.1'): DicomJson {
  return {
    '00080016': { vr: 'UI', Value: [CT] },
    '00080018': { vr: 'UI', Value: [`1.2.3.1.${n}`] },
    '0020000E': { vr: 'UI', Value: [series] },
  };
}

interface FakePacs {
  instances: DicomJson[];
  /** NumberOfStudyRelatedInstances as the study level says it (unset: not returned). */
  count?: number;
  /** Answers at most this many per search, whatever limit asked (Orthanc's LimitFindInstances). */
  cap?: number;
  ignoresLimit?: boolean;
  ignoresOffset?: boolean;
  /** Answers at most this many per page, whatever limit asked (and no cap on the offset). */
  perPage?: number;
}

const seriesOf = (dataset: DicomJson) => (dataset['0020000E'].Value as string[])[0];

/** A QIDO-RS double that records the searches. */
function pacs(fake: FakePacs): { qido: QidoSearch; searches: QidoQuery[] } {
  const searches: QidoQuery[] = [];
  const inSeries = (uid?: string) =>
    fake.instances.filter((dataset) => uid === undefined || seriesOf(dataset) === uid);
  const count = (tag: string, n: number) =>
    fake.count === undefined ? {} : { [tag]: { vr: 'IS', Value: [n] } };
  /** Orthanc applies its cap before the offset: past it, nothing. */
  const page = (all: DicomJson[], query: QidoQuery) => {
    const capped = fake.cap === undefined ? all : all.slice(0, fake.cap);
    const offset = fake.ignoresOffset ? 0 : (query.offset ?? 0);
    const limit = fake.ignoresLimit ? Infinity : (query.limit ?? Infinity);
    return capped.slice(offset, offset + Math.min(limit, fake.perPage ?? Infinity));
  };
  const qido: QidoSearch = (query) => {
    searches.push(query);
    if (fake.instances.length === 0) return Promise.resolve([]);
    switch (query.level) {
      case 'studies':
        return Promise.resolve([count('00201208', fake.count ?? 0)]);
      case 'series': {
        const uids = [...new Set(fake.instances.map(seriesOf))].filter(
          (uid) => query.seriesInstanceUid === undefined || uid === query.seriesInstanceUid,
        );
        const series = uids.map((uid) => ({
          '0020000E': { vr: 'UI', Value: [uid] },
          ...count('00201209', inSeries(uid).length),
        }));
        return Promise.resolve(page(series, query));
      }
      case 'instances':
        return Promise.resolve(page(inSeries(query.seriesInstanceUid), query));
    }
  };
  return { qido, searches };
}

const many = (count: number) => Array.from({ length: count }, (_, n) => instance(n + 1));
const signal = new AbortController().signal;

describe('planImport', () => {
  it('lists every instance as {sopInstanceUid, seriesInstanceUid, sopClassUid}', async () => {
    const { qido, searches } = pacs({ instances: [instance(1), instance(2, '1.2.3.2')], count: 2 });
    await expect(planImport(qido, { studyInstanceUid: STUDY }, signal)).resolves.toEqual([
      { sopInstanceUid: '1.2.3.1.1', seriesInstanceUid: '1.2.3.1', sopClassUid: CT },
      { sopInstanceUid: '1.2.3.1.2', seriesInstanceUid: '1.2.3.2', sopClassUid: CT },
    ]);
    expect(searches[0]).toMatchObject({ level: 'studies', studyInstanceUid: STUDY });
    expect(searches[1]).toMatchObject({
      level: 'instances',
      studyInstanceUid: STUDY,
      limit: QIDO_PAGE,
      offset: 0,
    });
    expect(searches).toHaveLength(2);
  });

  it('pages with limit/offset; stops once the count the study says it holds is reached', async () => {
    const { qido, searches } = pacs({ instances: many(2500), count: 2500 });
    expect(await planImport(qido, { studyInstanceUid: STUDY }, signal)).toHaveLength(2500);
    expect(searches.slice(1).map((search) => search.offset)).toEqual([0, 1000, 2000]);
  });

  it('asks the pages of a study whose count it knows at once, not one after the other', async () => {
    const { qido } = pacs({ instances: many(2500), count: 2500 });
    let inFlight = 0;
    let most = 0;
    const slowQido: QidoSearch = async (query, abort) => {
      if (query.level !== 'instances') return qido(query, abort);
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight -= 1;
      return qido(query, abort);
    };
    expect(await planImport(slowQido, { studyInstanceUid: STUDY }, signal)).toHaveLength(2500);
    expect(most).toBe(3);
  });

  it('lists every instance of a PACS that answers fewer per page than asked, the pages asked ahead or not', async () => {
    const { qido, searches } = pacs({ instances: many(2500), count: 2500, perPage: 600 });
    const planned = await planImport(qido, { studyInstanceUid: STUDY }, signal);
    expect(new Set(planned.map((i) => i.sopInstanceUid)).size).toBe(2500);
    // 0, 1000 and 2000 asked ahead; the loop goes on by what each page brought (600, 1200, …),
    // and the pages asked ahead at 1000 and 2000 are not taken.
    expect(searches.slice(1).map((search) => search.offset)).toEqual([0, 1000, 2000, 600, 1200, 1800, 2400]);
  });

  it('pages until a page brings nothing new when the PACS does not say the count', async () => {
    const { qido, searches } = pacs({ instances: many(1500) });
    expect(await planImport(qido, { studyInstanceUid: STUDY }, signal)).toHaveLength(1500);
    expect(searches.slice(1).map((search) => search.offset)).toEqual([0, 1000, 1500]);
  });

  it('takes a PACS that ignores limit and answers everything at once', async () => {
    const { qido, searches } = pacs({ instances: many(1200), ignoresLimit: true });
    expect(await planImport(qido, { studyInstanceUid: STUDY }, signal)).toHaveLength(1200);
    expect(searches.slice(1).map((search) => search.offset)).toEqual([0, 1200]);
  });

  it('stops asking a PACS that ignores offset (the same page again), and fails on what it could not list', async () => {
    const { qido, searches } = pacs({ instances: many(1200), count: 1200, ignoresOffset: true });
    await expect(planImport(qido, { studyInstanceUid: STUDY }, signal)).rejects.toThrow(
      'the PACS lists 1000 of the 1200 instances it says series 1.2.3.1 of study 1.2.3 holds',
    );
    // the study, its two pages, then the same for its one series
    expect(searches).toHaveLength(7);
  });

  it('lists a study its PACS caps series by series, when each series is under the cap', async () => {
    const instances = [1, 2, 3].flatMap((series) =>
      [1, 2].map((n) => instance(series * 10 + n, `1.2.3.${series}`)),
    );
    const { qido, searches } = pacs({ instances, count: 6, cap: 3 });
    const manifest = await planImport(qido, { studyInstanceUid: STUDY }, signal);
    expect(manifest.map((one) => one.sopInstanceUid).sort()).toEqual(
      instances.map((one) => (one['00080018'].Value as string[])[0]).sort(),
    );
    expect(searches.filter((one) => one.level === 'instances').map((one) => one.seriesInstanceUid)).toEqual([
      undefined,
      undefined,
      '1.2.3.1',
      '1.2.3.2',
      '1.2.3.3',
    ]);
  });

  it('fails permanently, naming the cap and the series, when a series is listed short of what it holds', async () => {
    const { qido } = pacs({ instances: many(6), count: 6, cap: 3 });
    const failure = planImport(qido, { studyInstanceUid: STUDY }, signal);
    await expect(failure).rejects.toThrow(ImportPlanError);
    await expect(failure).rejects.toThrow(
      'the PACS lists 3 of the 6 instances it says series 1.2.3.1 of study 1.2.3 holds: its QIDO-RS answers are capped',
    );
  });

  it('plans one series through its own instances resource', async () => {
    const { qido, searches } = pacs({ instances: [instance(1)], count: 1 });
    await planImport(qido, { studyInstanceUid: STUDY, seriesInstanceUid: '1.2.3.1' }, signal);
    expect(searches[0]).toMatchObject({
      level: 'series',
      studyInstanceUid: STUDY,
      seriesInstanceUid: '1.2.3.1',
    });
    expect(searches[1]).toMatchObject({ level: 'instances', seriesInstanceUid: '1.2.3.1' });
  });

  it('says the study is not found, naming it', async () => {
    const { qido } = pacs({ instances: [] });
    await expect(planImport(qido, { studyInstanceUid: STUDY }, signal)).rejects.toMatchObject({
      code: DicomwebErrorCode.StudyNotFound,
      message: 'the PACS holds no study 1.2.3 (QIDO-RS finds none)',
    });
  });

  it.each([
    ['00080016', 'instance 2 of study 1.2.3 has no SOPClassUID (0008,0016)'],
    ['00080018', 'instance 2 of study 1.2.3 has no SOPInstanceUID (0008,0018)'],
    ['0020000E', 'instance 2 of study 1.2.3 has no SeriesInstanceUID (0020,000E)'],
  ])('fails permanently on an answer without %s, naming what is missing', async (tag, message) => {
    const broken = instance(2);
    delete broken[tag];
    const { qido } = pacs({ instances: [instance(1), broken] });
    await expect(planImport(qido, { studyInstanceUid: STUDY }, signal)).rejects.toThrow(
      new ImportPlanError(`the PACS's QIDO-RS answer for ${message}`),
    );
  });

  it('fails permanently on a UID that is not one', async () => {
    const broken = instance(1);
    broken['00080018'] = { vr: 'UI', Value: ['1.2.x'] };
    const { qido } = pacs({ instances: [broken] });
    await expect(planImport(qido, { studyInstanceUid: STUDY }, signal)).rejects.toThrow(
      'has a SOPInstanceUID that is not a valid UID: "1.2.x"',
    );
  });

  it('fails permanently past the most instances one import may bring, naming the limit', async () => {
    const { qido } = pacs({ instances: many(11), count: 11 });
    await expect(planImport(qido, { studyInstanceUid: STUDY }, signal, 10)).rejects.toThrow(
      new ImportPlanError(
        'study 1.2.3 holds more than 10 instances, the most one import may bring (MAX_IMPORT_INSTANCES): import it series by series',
      ),
    );
  });
});
