import { buildUrl, checkUid, encodeQueryComponent } from './dicomweb-url';
import { DicomwebErrorCode, type DicomwebError } from './dicomweb.errors';
import { qidoUrl, type QidoQuery } from './qido';

const STUDY = '1.2.826.0.1.3680043.8.498.1';
const SERIES = '1.2.826.0.1.3680043.8.498.2';

function url(base: string, query: QidoQuery): string {
  return qidoUrl({ baseUrl: new URL(base) }, query).href;
}

function invalid(run: () => unknown): DicomwebError {
  try {
    run();
  } catch (error) {
    return error as DicomwebError;
  }
  throw new Error('expected a DicomwebError');
}

describe('buildUrl', () => {
  it('keeps the base path, with or without a trailing slash', () => {
    expect(buildUrl(new URL('https://pacs.example/dicom-web'), ['studies']).href).toBe(
      'https://pacs.example/dicom-web/studies',
    );
    expect(buildUrl(new URL('https://pacs.example/dicom-web/'), ['studies']).href).toBe(
      'https://pacs.example/dicom-web/studies',
    );
    expect(buildUrl(new URL('https://pacs.example:8443/a/b/rs//'), ['studies', STUDY, 'series']).href).toBe(
      `https://pacs.example:8443/a/b/rs/studies/${STUDY}/series`,
    );
  });

  it('works on a base URL that is only an origin', () => {
    expect(buildUrl(new URL('http://127.0.0.1:8042'), ['studies']).href).toBe(
      'http://127.0.0.1:8042/studies',
    );
  });

  it('percent-encodes path segments so a value cannot add segments', () => {
    expect(buildUrl(new URL('http://h/dw'), ['studies', 'a/b?c']).pathname).toBe('/dw/studies/a%2Fb%3Fc');
  });

  it('encodes space, +, &, =, %, # and non-ASCII; keeps ^ and the wildcards * and ? raw', () => {
    const built = buildUrl(new URL('http://h/dw'), ['studies'], {
      PatientName: 'Иванов^И*',
      StudyDescription: 'CT + contrast & more = 100% #1',
      AccessionNumber: 'A?C',
      StudyDate: '20240101-20240131',
    });
    expect(built.search).toBe(
      '?PatientName=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2^%D0%98*' +
        '&StudyDescription=CT%20%2B%20contrast%20%26%20more%20%3D%20100%25%20%231' +
        '&AccessionNumber=A?C&StudyDate=20240101-20240131',
    );
    // what a server that does decode sees
    expect(built.searchParams.get('PatientName')).toBe('Иванов^И*');
    expect(built.searchParams.get('StudyDescription')).toBe('CT + contrast & more = 100% #1');
  });

  it('leaves ^ raw: Orthanc 1.10 matches QIDO-RS values without percent-decoding them', () => {
    expect(encodeQueryComponent('DOE^J*')).toBe('DOE^J*');
    expect(encodeQueryComponent("a'b\\c[d]")).toBe('a%27b%5Cc%5Bd%5D');
  });

  it('repeats array parameters and leaves out undefined ones', () => {
    const built = buildUrl(new URL('http://h/dw'), ['studies'], {
      includefield: ['00081030', 'PatientAge'],
      limit: 5,
      offset: undefined,
    });
    expect(built.search).toBe('?includefield=00081030&includefield=PatientAge&limit=5');
  });
});

describe('qidoUrl', () => {
  const base = 'https://pacs.example/dicom-web';

  it('builds each level, narrowed by the UIDs given', () => {
    expect(url(base, { level: 'studies' })).toBe(`${base}/studies`);
    expect(url(base, { level: 'series' })).toBe(`${base}/series`);
    expect(url(base, { level: 'series', studyInstanceUid: STUDY })).toBe(`${base}/studies/${STUDY}/series`);
    expect(url(base, { level: 'instances' })).toBe(`${base}/instances`);
    expect(url(base, { level: 'instances', studyInstanceUid: STUDY })).toBe(
      `${base}/studies/${STUDY}/instances`,
    );
    expect(url(base, { level: 'instances', studyInstanceUid: STUDY, seriesInstanceUid: SERIES })).toBe(
      `${base}/studies/${STUDY}/series/${SERIES}/instances`,
    );
  });

  it('turns a UID that cannot go into the path into a matching key', () => {
    expect(url(base, { level: 'studies', studyInstanceUid: STUDY })).toBe(
      `${base}/studies?StudyInstanceUID=${STUDY}`,
    );
    expect(url(base, { level: 'instances', seriesInstanceUid: SERIES })).toBe(
      `${base}/instances?SeriesInstanceUID=${SERIES}`,
    );
  });

  it('adds filters, limit, offset and includefield; normalizes tags', () => {
    const built = new URL(
      url(base, {
        level: 'studies',
        filters: {
          PatientName: 'DOE^J*',
          '(0008,0061)': 'CT',
          'ScheduledProcedureStepSequence.Modality': 'MR',
        },
        limit: 10,
        offset: 20,
        includefield: ['all'],
      }),
    );
    expect([...built.searchParams]).toEqual([
      ['PatientName', 'DOE^J*'],
      ['00080061', 'CT'],
      ['ScheduledProcedureStepSequence.Modality', 'MR'],
      ['limit', '10'],
      ['offset', '20'],
      ['includefield', 'all'],
    ]);
  });

  it('refuses bad UIDs, bad attribute names, reserved names and bad limits', () => {
    for (const query of [
      { level: 'studies', studyInstanceUid: '1.2.03' },
      { level: 'series', studyInstanceUid: '../../admin' },
      { level: 'studies', filters: { 'Patient Name': 'x' } },
      { level: 'studies', filters: { limit: '5' } },
      { level: 'studies', filters: { PatientName: 5 as unknown as string } },
      { level: 'studies', includefield: ['x;y'] },
      { level: 'studies', limit: -1 },
      { level: 'studies', offset: 1.5 },
      { level: 'studies', seriesInstanceUid: SERIES },
      { level: 'patients' as QidoQuery['level'] },
    ] as QidoQuery[]) {
      const error = invalid(() => url(base, query));
      expect(error.code).toBe(DicomwebErrorCode.InvalidRequest);
    }
  });
});

describe('checkUid', () => {
  it('passes a PS3.5 9.1 UID through', () => {
    expect(checkUid('studyInstanceUid', STUDY)).toBe(STUDY);
    expect(checkUid('studyInstanceUid', '0.1')).toBe('0.1');
  });

  it.each([
    ['1.02', 'has a component with a leading zero'],
    ['1..2', 'has an empty component'],
    [`1.${'2'.repeat(63)}`, 'is 65 characters long, more than 64'],
  ])('refuses %j as an invalid request naming the field and the problem', (value, problem) => {
    let thrown: unknown;
    try {
      checkUid('studyInstanceUid', value);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: DicomwebErrorCode.InvalidRequest,
      message: `studyInstanceUid is not a valid UID (PS3.5 9.1): it ${problem}`,
    });
  });
});
