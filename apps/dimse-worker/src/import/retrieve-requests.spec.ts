import { retrieveRequests } from './retrieve-requests';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const STUDY = '1.2.3';

function instance(series: string, n: number) {
  return { sopInstanceUid: `${series}.${n}`, seriesInstanceUid: series, sopClassUid: CT };
}

describe('retrieveRequests', () => {
  const a = [instance('1.2.3.1', 1), instance('1.2.3.1', 2)];
  const b = [instance('1.2.3.2', 1), instance('1.2.3.2', 2), instance('1.2.3.2', 3)];

  it('a whole series is one SERIES request; the instances of a cut series go as one IMAGE request', () => {
    expect(retrieveRequests(STUDY, [...a, ...b], ['1.2.3.1']).map((request) => request.query)).toEqual([
      { level: 'SERIES', studyInstanceUid: STUDY, seriesInstanceUids: ['1.2.3.1'] },
      {
        level: 'IMAGE',
        studyInstanceUid: STUDY,
        seriesInstanceUids: ['1.2.3.2'],
        sopInstanceUids: ['1.2.3.2.1', '1.2.3.2.2', '1.2.3.2.3'],
      },
    ]);
  });

  it('asks only for what is not done: a whole series partly stored goes instance by instance', () => {
    const requests = retrieveRequests(
      STUDY,
      [...a, ...b],
      ['1.2.3.1', '1.2.3.2'],
      new Set(['1.2.3.2.2', ...a.map((i) => i.sopInstanceUid)]),
    );
    expect(requests.map((request) => request.query)).toEqual([
      {
        level: 'IMAGE',
        studyInstanceUid: STUDY,
        seriesInstanceUids: ['1.2.3.2'],
        sopInstanceUids: ['1.2.3.2.1', '1.2.3.2.3'],
      },
    ]);
    expect(requests[0].instances).toEqual([b[0], b[2]]);
  });

  it('cuts long UID lists into requests that fit', () => {
    const many = Array.from({ length: 1000 }, (_, n) => ({
      sopInstanceUid: `1.2.840.113619.2.55.3.604688119.969.1268071029.320.${String(n).padStart(8, '0')}`,
      seriesInstanceUid: '1.2.3.9',
      sopClassUid: CT,
    }));
    const requests = retrieveRequests(STUDY, many, []);
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.flatMap((request) => request.query.sopInstanceUids)).toEqual(
      many.map((i) => i.sopInstanceUid),
    );
    for (const request of requests)
      expect(request.query.sopInstanceUids?.join('\\').length).toBeLessThanOrEqual(16_384);
  });
});
