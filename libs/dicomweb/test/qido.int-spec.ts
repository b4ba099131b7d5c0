import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateStudy,
  deleteStudyFromOrthanc,
  runDcmtk,
  startPeers,
  testEgressGuard,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import { DicomwebClient, DicomwebError, DicomwebErrorCode, type DicomwebEndpoint } from '../src';
import { dicomJsonString, dicomJsonStrings, type DicomJson } from '@pacslink/dicom';

// QIDO-RS against a real Orthanc (DICOMweb plugin, HTTP Basic on). Studies go in over DIMSE with
// DCMTK storescu, so what QIDO-RS answers is checked against data a third party stored.
jest.setTimeout(120_000);

const Tag = {
  SpecificCharacterSet: '00080005',
  AccessionNumber: '00080050',
  Modality: '00080060',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
} as const;

/** Uppercase ASCII letters, so the wildcard queries of this run match only this run's patients. */
function unique(length = 8): string {
  return Array.from({ length }, () => String.fromCharCode(65 + randomInt(26))).join('');
}

// Non-ASCII family names with an ASCII marker: a matching value must be ASCII to work with Orthanc
// 1.10 / DICOMweb plugin 1.7, which compares QIDO-RS values without percent-decoding them (and
// non-ASCII has to be percent-encoded in a URL). The answers carry the names decoded to UTF-8.
const CYRILLIC_MARK = unique();
const LATIN1_MARK = unique();
const CYRILLIC_NAME = `Петров${CYRILLIC_MARK}^Анна`;
const LATIN1_NAME = `Müller${LATIN1_MARK}^Jürgen`;

let peers: PeerEndpoints;
let workDir: string;
let cyrillic: GeneratedStudy;
let latin1: GeneratedStudy;
let endpoint: DicomwebEndpoint;
const client = new DicomwebClient({ egress: testEgressGuard() });

const uidsOf = (datasets: DicomJson[], tag: string): string[] =>
  datasets.map((dataset) => dicomJsonString(dataset, tag) ?? '').sort();

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-qido-'));
  cyrillic = await generateStudy(workDir, {
    series: 2,
    instancesPerSeries: 2,
    patient: { name: CYRILLIC_NAME, charset: 'ISO_IR 144' },
  });
  latin1 = await generateStudy(workDir, {
    series: 1,
    instancesPerSeries: 1,
    patient: { name: LATIN1_NAME, charset: 'ISO_IR 100' },
  });
  await runDcmtk('storescu', [
    ...['-aet', 'STORESCU', '-aec', peers.orthanc.aet, peers.orthanc.host, String(peers.orthanc.port)],
    ...cyrillic.files,
    ...latin1.files,
  ]);
  endpoint = {
    url: peers.orthanc.dicomWebUrl,
    auth: { method: 'basic', username: peers.orthanc.user, password: peers.orthanc.password },
    sourceAeTitle: 'PACSLINK',
    pacsAeTitle: peers.orthanc.aet,
    timeoutMs: 10_000,
  };
});

afterAll(async () => {
  await client.close();
  for (const study of [cyrillic, latin1]) {
    if (study) await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('studies', () => {
  it('finds a study by StudyInstanceUID, with its Cyrillic name decoded and its counts', async () => {
    const found = await client.qido(endpoint, {
      level: 'studies',
      studyInstanceUid: cyrillic.studyInstanceUid,
      includefield: ['NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'],
    });

    expect(found).toHaveLength(1);
    const [study] = found;
    expect(dicomJsonString(study, Tag.StudyInstanceUID)).toBe(cyrillic.studyInstanceUid);
    expect(dicomJsonString(study, Tag.PatientName)).toBe(CYRILLIC_NAME);
    expect(dicomJsonString(study, Tag.PatientID)).toBe(cyrillic.patient.id);
    expect(dicomJsonString(study, Tag.AccessionNumber)).toBe(cyrillic.accessionNumber);
    expect(dicomJsonString(study, Tag.NumberOfStudyRelatedSeries)).toBe('2');
    expect(dicomJsonString(study, Tag.NumberOfStudyRelatedInstances)).toBe('4');
  });

  it('matches PatientName wildcards, and answers the ISO_IR 144 and ISO_IR 100 names decoded', async () => {
    const byCyrillic = await client.qido(endpoint, {
      level: 'studies',
      filters: { PatientName: `*${CYRILLIC_MARK}*` },
    });
    expect(uidsOf(byCyrillic, Tag.StudyInstanceUID)).toEqual([cyrillic.studyInstanceUid]);
    expect(dicomJsonString(byCyrillic[0], Tag.PatientName)).toBe(CYRILLIC_NAME);

    // `^` must reach Orthanc raw (see encodeQueryComponent)
    const byLatin1 = await client.qido(endpoint, {
      level: 'studies',
      filters: { PatientName: `*${LATIN1_MARK}^J*` },
    });
    expect(uidsOf(byLatin1, Tag.StudyInstanceUID)).toEqual([latin1.studyInstanceUid]);
    expect(dicomJsonString(byLatin1[0], Tag.PatientName)).toBe(LATIN1_NAME);
  });

  it('answers [] when nothing matches', async () => {
    await expect(
      client.qido(endpoint, { level: 'studies', filters: { PatientName: `${CYRILLIC_MARK}-NONE*` } }),
    ).resolves.toEqual([]);
  });
});

describe('series and instances', () => {
  it('lists the series of a study', async () => {
    const found = await client.qido(endpoint, {
      level: 'series',
      studyInstanceUid: cyrillic.studyInstanceUid,
    });
    expect(uidsOf(found, Tag.SeriesInstanceUID)).toEqual(
      cyrillic.series.map((s) => s.seriesInstanceUid).sort(),
    );
    expect(found.flatMap((series) => dicomJsonStrings(series, Tag.Modality))).toEqual(['CT', 'CT']);
  });

  it('filters series across studies by StudyInstanceUID as a matching key', async () => {
    const found = await client.qido(endpoint, {
      level: 'series',
      filters: { StudyInstanceUID: latin1.studyInstanceUid },
    });
    expect(uidsOf(found, Tag.SeriesInstanceUID)).toEqual([latin1.series[0].seriesInstanceUid]);
  });

  it('lists the instances of one series, and of a whole study', async () => {
    const [first] = cyrillic.series;
    const ofSeries = await client.qido(endpoint, {
      level: 'instances',
      studyInstanceUid: cyrillic.studyInstanceUid,
      seriesInstanceUid: first.seriesInstanceUid,
    });
    expect(uidsOf(ofSeries, Tag.SOPInstanceUID)).toEqual(first.instances.map((i) => i.sopInstanceUid).sort());

    const ofStudy = await client.qido(endpoint, {
      level: 'instances',
      studyInstanceUid: cyrillic.studyInstanceUid,
    });
    const all = cyrillic.series.flatMap((s) => s.instances.map((i) => i.sopInstanceUid)).sort();
    expect(uidsOf(ofStudy, Tag.SOPInstanceUID)).toEqual(all);
  });

  it('pages with limit and offset', async () => {
    const page = (offset: number) =>
      client.qido(endpoint, {
        level: 'instances',
        studyInstanceUid: cyrillic.studyInstanceUid,
        limit: 3,
        offset,
      });
    const [first, second] = await Promise.all([page(0), page(3)]);
    expect(first).toHaveLength(3);
    expect(second).toHaveLength(1);
    const all = cyrillic.series.flatMap((s) => s.instances.map((i) => i.sopInstanceUid)).sort();
    expect([...uidsOf(first, Tag.SOPInstanceUID), ...uidsOf(second, Tag.SOPInstanceUID)].sort()).toEqual(all);
  });
});

describe('authentication', () => {
  async function rejection(auth: DicomwebEndpoint['auth']): Promise<DicomwebError> {
    const error = await client
      .qido({ ...endpoint, auth }, { level: 'studies', limit: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DicomwebError);
    return error as DicomwebError;
  }

  it('a wrong password is an authentication error that does not repeat the password', async () => {
    const error = await rejection({
      method: 'basic',
      username: peers.orthanc.user,
      password: 'wrong-password',
    });
    expect(error.code).toBe(DicomwebErrorCode.AuthenticationRejected);
    expect(error.httpStatus).toBe(401);
    expect(error.message).toBe('authentication rejected (HTTP 401) — check the username/password');
    expect(error.message).not.toContain('wrong-password');
  });

  it('no credentials: the error says which scheme Orthanc asks for', async () => {
    const error = await rejection({ method: 'none' });
    expect(error.message).toBe(
      'authentication rejected (HTTP 401) — the server requires credentials (it asks for Basic) and none are configured',
    );
  });
});
