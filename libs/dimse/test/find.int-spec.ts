import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deleteStudyFromOrthanc,
  type GeneratedStudy,
  generateStudy,
  type PeerEndpoints,
  randomId,
  runDcmtk,
  startPeers,
  storescu,
  testEgressGuard,
  startDcmqrscp,
  type DcmtkPeer,
} from '@pacslink/testing';
import type { DicomJson } from '@pacslink/dicom';
import { DimseError, DimseErrorCode, find, type DimseConnectionOptions } from '../src';

// Study Root C-FIND against Orthanc (which answers in UTF-8) and against a DCMTK dcmqrscp of the
// test's own (which answers in the stored files' ISO_IR 144 / ISO_IR 100, in Implicit VR when told
// to): counts, UIDs and decoded names compared with what the test generated and stored.
jest.setTimeout(120_000);

const TOKEN = randomId('', 4);
const TIMEOUTS = {
  connectTimeoutMs: 10_000,
  associationTimeoutMs: 10_000,
  pduTimeoutMs: 20_000,
  egress: testEgressGuard(),
};

let peers: PeerEndpoints;
let workDir: string;
let cyrillic: GeneratedStudy;
let latin1: GeneratedStudy;
let utf8: GeneratedStudy;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-dimse-find-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  // Family names unique to this run: other runs may query the same Orthanc at the same time.
  cyrillic = await generateStudy(workDir, {
    series: 2,
    instancesPerSeries: 2,
    patient: { name: `Иванов-${TOKEN}^Иван`, charset: 'ISO_IR 144' },
  });
  latin1 = await generateStudy(workDir, {
    patient: { name: `Müller-${TOKEN}^Jürgen`, charset: 'ISO_IR 100' },
  });
  utf8 = await generateStudy(workDir, {
    patient: { name: `Петрова-${TOKEN}^Анна^Сергеевна`, charset: 'ISO_IR 192' },
  });
  const files = [cyrillic, latin1, utf8].flatMap((study) => study.files);
  const { orthanc } = peers;
  cleanups.push(() => deleteFromOrthanc([cyrillic, latin1, utf8]));
  await storescu(orthanc, files);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function deleteFromOrthanc(studies: GeneratedStudy[]): Promise<void> {
  for (const study of studies) await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
}

function orthanc(overrides: Partial<DimseConnectionOptions> = {}): DimseConnectionOptions {
  return {
    host: peers.orthanc.host,
    port: peers.orthanc.port,
    callingAeTitle: 'FINDSCU',
    calledAeTitle: peers.orthanc.aet,
    ...TIMEOUTS,
    ...overrides,
  };
}

const text = (result: DicomJson, tag: string): unknown => result[tag]?.Value?.[0];
const alphabetic = (result: DicomJson): unknown =>
  (result['00100010']?.Value?.[0] as { Alphabetic?: string } | undefined)?.Alphabetic;

describe('Orthanc', () => {
  it.each([
    ['ISO_IR 144', () => cyrillic],
    ['ISO_IR 100', () => latin1],
    ['ISO_IR 192', () => utf8],
  ])('STUDY by StudyInstanceUID (%s patient): one match, text decoded', async (_charset, study) => {
    const expected = study();
    const results = await find(orthanc(), {
      level: 'STUDY',
      keys: { StudyInstanceUID: expected.studyInstanceUid },
      returnKeys: [
        'PatientName',
        'PatientID',
        'StudyDescription',
        'AccessionNumber',
        'NumberOfStudyRelatedInstances',
      ],
    });

    expect(results).toHaveLength(1);
    const [result] = results;
    expect(text(result, '0020000D')).toBe(expected.studyInstanceUid);
    // Orthanc pads the PN with a space: trimmed
    expect(alphabetic(result)).toBe(expected.patient.name);
    expect(text(result, '00100020')).toBe(expected.patient.id);
    expect(text(result, '00081030')).toBe(expected.studyDescription);
    expect(text(result, '00080050')).toBe(expected.accessionNumber);
    expect(text(result, '00201208')).toBe(expected.files.length);
    expect(result['00100010'].vr).toBe('PN');
    expect(result['00080052']).toBeUndefined();
  });

  it('STUDY by PatientName wildcard: every study of this run, names decoded', async () => {
    const results = await find(orthanc(), {
      level: 'STUDY',
      keys: { PatientName: `*-${TOKEN}*` },
      returnKeys: ['PatientName'],
    });
    const byUid = new Map(results.map((result) => [text(result, '0020000D'), alphabetic(result)]));
    expect(byUid).toEqual(
      new Map([cyrillic, latin1, utf8].map((study) => [study.studyInstanceUid, study.patient.name])),
    );
  });

  it('STUDY by a non-ASCII PatientName wildcard (sent as ISO_IR 192)', async () => {
    const results = await find(orthanc(), {
      level: 'STUDY',
      keys: { PatientName: `Иванов-${TOKEN}*` },
      returnKeys: [],
    });
    expect(results.map((result) => text(result, '0020000D'))).toEqual([cyrillic.studyInstanceUid]);
    expect(alphabetic(results[0])).toBe(cyrillic.patient.name);
  });

  it('SERIES level: the series of one study', async () => {
    const results = await find(orthanc(), {
      level: 'SERIES',
      keys: { StudyInstanceUID: cyrillic.studyInstanceUid },
      returnKeys: ['Modality', 'SeriesNumber', 'SeriesDescription', 'NumberOfSeriesRelatedInstances'],
    });
    expect(results).toHaveLength(2);
    const series = results
      .map((result) => ({
        uid: text(result, '0020000E'),
        number: text(result, '00200011'),
        modality: text(result, '00080060'),
        instances: text(result, '00201209'),
      }))
      .sort((a, b) => Number(a.number) - Number(b.number));
    expect(series).toEqual(
      cyrillic.series.map((s) => ({
        uid: s.seriesInstanceUid,
        number: s.seriesNumber,
        modality: 'CT',
        instances: s.instances.length,
      })),
    );
  });

  it('IMAGE level: the instances of one series', async () => {
    const [first] = cyrillic.series;
    const results = await find(orthanc(), {
      level: 'IMAGE',
      keys: { StudyInstanceUID: cyrillic.studyInstanceUid, SeriesInstanceUID: first.seriesInstanceUid },
      returnKeys: ['SOPClassUID', 'InstanceNumber'],
    });
    const instances = results
      .map((result) => ({
        uid: text(result, '00080018'),
        sopClassUid: text(result, '00080016'),
        number: text(result, '00200013'),
      }))
      .sort((a, b) => Number(a.number) - Number(b.number));
    expect(instances).toEqual(
      first.instances.map((i) => ({
        uid: i.sopInstanceUid,
        sopClassUid: i.sopClassUid,
        number: i.instanceNumber,
      })),
    );
  });

  it('limit: stops after the first match (C-CANCEL)', async () => {
    const results = await find(orthanc(), {
      level: 'STUDY',
      keys: { PatientName: `*-${TOKEN}*` },
      returnKeys: [],
      limit: 1,
    });
    expect(results).toHaveLength(1);
  });

  it('no match: an empty list', async () => {
    const results = await find(orthanc(), {
      level: 'STUDY',
      keys: { StudyInstanceUID: `1.2.826.0.1.3680043.10.854.${Date.now()}` },
      returnKeys: [],
    });
    expect(results).toEqual([]);
  });

  it('a calling AE title Orthanc does not know: the association is aborted, and the message says why', async () => {
    const error = await find(orthanc({ callingAeTitle: 'NOBODY' }), {
      level: 'STUDY',
      keys: { StudyInstanceUID: cyrillic.studyInstanceUid },
      returnKeys: [],
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DimseError);
    expect((error as DimseError).code).toBe(DimseErrorCode.ASSOCIATION_ABORTED);
    expect((error as DimseError).message).toContain('calling AE title NOBODY may not use');
  });

  it('a peer without Study Root FIND (storescp): PRESENTATION_CONTEXT_REJECTED, not an empty success', async () => {
    const { storescp } = peers;
    const error = await find(
      orthanc({ host: storescp.host, port: storescp.port, calledAeTitle: storescp.aet }),
      { level: 'STUDY', keys: {}, returnKeys: [] },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DimseError);
    expect((error as DimseError).code).toBe(DimseErrorCode.PRESENTATION_CONTEXT_REJECTED);
    expect((error as DimseError).message).toBe(
      'the PACS does not accept Study Root Query/Retrieve (C-FIND) (presentation context rejected: abstract syntax not supported)',
    );
  });
});

describe('DCMTK dcmqrscp answering in single-byte character sets, Implicit VR only', () => {
  let scp: DcmtkPeer;

  beforeAll(async () => {
    const dir = join(workDir, 'dcmqrscp');
    scp = await startDcmqrscp(dir, 'QRSCP', { extra: ['+xi'] });
    cleanups.push(() => scp.stop());
    const files = [cyrillic, latin1, utf8].flatMap((study) => study.files);
    await storescu({ aet: scp.aeTitle, host: '127.0.0.1', port: scp.port }, files);
  });

  const qrscp = (): DimseConnectionOptions => ({
    host: '127.0.0.1',
    port: scp.port,
    callingAeTitle: 'FINDSCU',
    calledAeTitle: scp.aeTitle,
    ...TIMEOUTS,
  });

  /** What dcmqrscp really sends: (0008,0005) of its answer, read by DCMTK's own findscu + dcmdump. */
  async function declaredCharset(studyInstanceUid: string): Promise<string> {
    const out = await mkdtemp(join(workDir, 'findscu-'));
    await runDcmtk('findscu', [
      ...['-S', '-aet', 'FINDSCU', '-aec', scp.aeTitle, '127.0.0.1', String(scp.port)],
      ...[
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${studyInstanceUid}`,
        '-k',
        'PatientName',
      ],
      ...['-X', '-od', out],
    ]);
    const [file] = (await readdir(out)).filter((name) => name.startsWith('rsp'));
    const { stdout } = await runDcmtk('dcmdump', ['+P', 'SpecificCharacterSet', join(out, file)]);
    return /\[([^\]]*)\]/.exec(stdout)?.[1] ?? '';
  }

  it('the peer really answers in ISO_IR 144 and ISO_IR 100 (so the next test exercises decoding)', async () => {
    expect(await declaredCharset(cyrillic.studyInstanceUid)).toBe('ISO_IR 144');
    expect(await declaredCharset(latin1.studyInstanceUid)).toBe('ISO_IR 100');
  });

  it('each answer is decoded by its own Specific Character Set', async () => {
    const results = await find(qrscp(), {
      level: 'STUDY',
      keys: { PatientName: `*-${TOKEN}*` },
      returnKeys: ['PatientName', 'StudyDescription'],
    });
    const byUid = new Map(
      results.map((result) => [text(result, '0020000D'), [alphabetic(result), text(result, '00081030')]]),
    );
    expect(byUid).toEqual(
      new Map(
        [cyrillic, latin1, utf8].map((study) => [
          study.studyInstanceUid,
          [study.patient.name, study.studyDescription],
        ]),
      ),
    );
    // the text is Unicode now: reported as ISO_IR 192, never with the original single-byte label
    expect(results.every((result) => text(result, '00080005') === 'ISO_IR 192')).toBe(true);
  });

  it('SERIES level by StudyInstanceUID', async () => {
    const results = await find(qrscp(), {
      level: 'SERIES',
      keys: { StudyInstanceUID: cyrillic.studyInstanceUid },
      returnKeys: ['SeriesNumber'],
    });
    expect(results.map((result) => text(result, '0020000E')).sort()).toEqual(
      cyrillic.series.map((s) => s.seriesInstanceUid).sort(),
    );
  });
});
