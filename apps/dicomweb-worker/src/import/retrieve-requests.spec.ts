import { retrieveRequests } from './retrieve-requests';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const of = (series: string, ...uids: string[]) =>
  uids.map((sopInstanceUid) => ({ sopInstanceUid, seriesInstanceUid: series, sopClassUid: CT }));

describe('retrieveRequests', () => {
  it('one GET per whole series, one per instance of the others', () => {
    const batch = {
      instances: [...of('1.1', '1.1.1', '1.1.2'), ...of('1.2', '1.2.1', '1.2.2'), ...of('1.3', '1.3.1')],
      wholeSeries: ['1.1', '1.3'],
    };
    expect(retrieveRequests(batch)).toEqual([
      { seriesInstanceUid: '1.1', expected: ['1.1.1', '1.1.2'] },
      { seriesInstanceUid: '1.3', expected: ['1.3.1'] },
      { seriesInstanceUid: '1.2', sopInstanceUid: '1.2.1', expected: ['1.2.1'] },
      { seriesInstanceUid: '1.2', sopInstanceUid: '1.2.2', expected: ['1.2.2'] },
    ]);
  });

  it('no GET for a whole series the batch holds no instance of', () => {
    expect(retrieveRequests({ instances: of('1.1', '1.1.1'), wholeSeries: ['1.9'] })).toEqual([
      { seriesInstanceUid: '1.1', sopInstanceUid: '1.1.1', expected: ['1.1.1'] },
    ]);
  });
});
