import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { dicomJsonString, dicomJsonStrings, type DicomJson } from '@pacslink/dicom';
import {
  generateStudy,
  deleteStudyFromOrthanc,
  runDcmtk,
  startPeers,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import {
  expectFieldError,
  expectProblem,
  startConfigService,
  type RunningConfigService,
} from './config-service.harness';
import { startWorkers } from './workers.harness';

// The contract's "Query" through the running services: config-service asks the dimse-worker
// (C-FIND) or the dicomweb-worker (QIDO-RS) over RabbitMQ, which query a real Orthanc holding
// studies that DCMTK storescu put there, in two single-byte character sets.
jest.setTimeout(180_000);

const Tag = {
  AccessionNumber: '00080050',
  StudyDate: '00080020',
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  SOPClassUID: '00080016',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
} as const;

/** The attributes both protocols must answer alike, per level. */
const BASIC_TAGS: Record<'study' | 'series' | 'instance', string[]> = {
  study: [
    Tag.StudyInstanceUID,
    Tag.PatientName,
    Tag.PatientID,
    Tag.StudyDate,
    Tag.AccessionNumber,
    Tag.ModalitiesInStudy,
    Tag.NumberOfStudyRelatedSeries,
    Tag.NumberOfStudyRelatedInstances,
  ],
  series: [Tag.StudyInstanceUID, Tag.SeriesInstanceUID, Tag.Modality],
  instance: [Tag.StudyInstanceUID, Tag.SeriesInstanceUID, Tag.SOPInstanceUID, Tag.SOPClassUID],
};

/** Upper-case ASCII letters, so the wildcard queries of this run match only this run's patients. */
function unique(length = 8): string {
  return Array.from({ length }, () => String.fromCharCode(65 + randomInt(26))).join('');
}

// Non-ASCII names with an ASCII marker: Orthanc 1.10's QIDO-RS does not percent-decode values, so
// only an ASCII wildcard can match over DICOMweb (libs/dicomweb/README.md).
const CYRILLIC_MARK = unique();
const LATIN1_MARK = unique();
const CYRILLIC_NAME = `Петров${CYRILLIC_MARK}^Анна`;
const LATIN1_NAME = `Müller${LATIN1_MARK}^Jürgen`;

type Protocol = 'dimse' | 'dicomweb';
const PROTOCOLS: Protocol[] = ['dimse', 'dicomweb'];

const uidsOf = (datasets: DicomJson[], tag: string): string[] =>
  datasets.map((dataset) => dicomJsonString(dataset, tag) ?? '').sort();

/** The raw PN value, untrimmed by any helper: the API itself must answer it trimmed. */
function personName(dataset: DicomJson): unknown {
  return dataset[Tag.PatientName]?.Value?.[0];
}

describe('query through config-service, dimse-worker and dicomweb-worker', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  const workers: INestApplication[] = [];
  let workDir: string | undefined;
  let cyrillic: GeneratedStudy | undefined;
  let latin1: GeneratedStudy | undefined;
  const configs = {} as Record<Protocol | 'noImport', string>;

  const create = (body: Record<string, unknown>) => service.createPacsConfig(body);

  async function setAllowTransfer(allowTransfer: boolean): Promise<void> {
    const current = (await (await service.call('GET', '/settings')).json()) as Record<string, unknown>;
    const response = await service.call('PUT', '/settings', {
      allowTransfer,
      defaultCallingAeTitle: current.defaultCallingAeTitle,
    });
    expect(response.status).toBe(200);
  }

  async function query(protocol: Protocol, body: Record<string, unknown>): Promise<DicomJson[]> {
    const response = await service.call('POST', `/pacs-configs/${configs[protocol]}/query`, body);
    const answer = (await response.json()) as { results: DicomJson[] };
    if (response.status !== 200) throw new Error(`${response.status}: ${JSON.stringify(answer)}`);
    expect(Object.keys(answer)).toEqual(['results']);
    return answer.results;
  }

  beforeAll(async () => {
    peers = await startPeers();
    service = await startConfigService({ env: { SECRETS_KEY: secretsKey } });
    workers.push(...(await startWorkers(service.vhost.url, secretsKey)));
    await setAllowTransfer(true);

    workDir = await mkdtemp(join(tmpdir(), 'pacslink-query-e2e-'));
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

    configs.dimse = await create({
      type: 'dimse',
      aeTitle: peers.orthanc.aet,
      name: 'Orthanc over DIMSE',
      host: peers.orthanc.host,
      port: peers.orthanc.port,
      queryRetrieve: true,
      queryAeTitle: 'FINDSCU',
      timeoutMs: 10_000,
    });
    configs.dicomweb = await create({
      type: 'dicomweb',
      aeTitle: 'ORTHANC_DW',
      name: 'Orthanc over DICOMweb',
      url: peers.orthanc.dicomWebUrl,
      qidoRs: true,
      auth: { method: 'basic', username: peers.orthanc.user, password: peers.orthanc.password },
      timeoutMs: 10_000,
    });
    configs.noImport = await create({
      type: 'dicomweb',
      aeTitle: 'EXPORT_ONLY',
      name: 'export only',
      url: peers.orthanc.dicomWebUrl,
      stowRs: true,
    });
  });

  afterAll(async () => {
    for (const study of [cyrillic, latin1]) {
      if (study) await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
    for (const worker of workers) await worker.close();
    await service?.stop();
  });

  const studies = (): { cyrillic: GeneratedStudy; latin1: GeneratedStudy } => {
    if (!cyrillic || !latin1) throw new Error('the studies were not generated');
    return { cyrillic, latin1 };
  };

  describe.each(PROTOCOLS)('over %s', (protocol) => {
    it('finds a study by StudyInstanceUID, with its ISO_IR 144 name decoded and its counts', async () => {
      const { cyrillic } = studies();
      const found = await query(protocol, {
        level: 'study',
        filters: { StudyInstanceUID: cyrillic.studyInstanceUid },
      });
      expect(found).toHaveLength(1);
      const [study] = found;
      expect(dicomJsonString(study, Tag.StudyInstanceUID)).toBe(cyrillic.studyInstanceUid);
      expect(personName(study)).toEqual({ Alphabetic: CYRILLIC_NAME });
      expect(dicomJsonString(study, Tag.PatientID)).toBe(cyrillic.patient.id);
      expect(dicomJsonString(study, Tag.AccessionNumber)).toBe(cyrillic.accessionNumber);
      expect(dicomJsonString(study, Tag.NumberOfStudyRelatedSeries)).toBe('2');
      expect(dicomJsonString(study, Tag.NumberOfStudyRelatedInstances)).toBe('4');
    });

    it('matches PatientName wildcards on the ASCII marker, and decodes the ISO_IR 100 name', async () => {
      const { cyrillic, latin1 } = studies();
      const byCyrillic = await query(protocol, {
        level: 'study',
        filters: { PatientName: `*${CYRILLIC_MARK}*` },
      });
      expect(uidsOf(byCyrillic, Tag.StudyInstanceUID)).toEqual([cyrillic.studyInstanceUid]);
      expect(personName(byCyrillic[0])).toEqual({ Alphabetic: CYRILLIC_NAME });

      const byLatin1 = await query(protocol, {
        level: 'study',
        filters: { PatientName: `*${LATIN1_MARK}^J*` },
      });
      expect(uidsOf(byLatin1, Tag.StudyInstanceUID)).toEqual([latin1.studyInstanceUid]);
      expect(personName(byLatin1[0])).toEqual({ Alphabetic: LATIN1_NAME });

      expect(
        await query(protocol, { level: 'study', filters: { PatientName: `${CYRILLIC_MARK}NONE*` } }),
      ).toEqual([]);
    });

    it('lists the series of a study', async () => {
      const { cyrillic } = studies();
      const found = await query(protocol, {
        level: 'series',
        filters: { StudyInstanceUID: cyrillic.studyInstanceUid },
      });
      expect(uidsOf(found, Tag.SeriesInstanceUID)).toEqual(
        cyrillic.series.map((series) => series.seriesInstanceUid).sort(),
      );
      expect(found.flatMap((series) => dicomJsonStrings(series, Tag.Modality))).toEqual(['CT', 'CT']);
    });

    it('lists the instances of a series, and pages the instances of a study with limit and offset', async () => {
      const { cyrillic } = studies();
      const [first] = cyrillic.series;
      const ofSeries = await query(protocol, {
        level: 'instance',
        filters: { StudyInstanceUID: cyrillic.studyInstanceUid, SeriesInstanceUID: first.seriesInstanceUid },
      });
      expect(uidsOf(ofSeries, Tag.SOPInstanceUID)).toEqual(
        first.instances.map((instance) => instance.sopInstanceUid).sort(),
      );

      const page = (offset: number) =>
        query(protocol, {
          level: 'instance',
          filters: { StudyInstanceUID: cyrillic.studyInstanceUid },
          limit: 3,
          offset,
        });
      const [one, two] = [await page(0), await page(3)];
      expect(one).toHaveLength(3);
      expect(two).toHaveLength(1);
      const all = cyrillic.series.flatMap((series) => series.instances.map((i) => i.sopInstanceUid)).sort();
      expect([...uidsOf(one, Tag.SOPInstanceUID), ...uidsOf(two, Tag.SOPInstanceUID)].sort()).toEqual(all);
    });
  });

  it.each(['study', 'series', 'instance'] as const)(
    'both protocols answer the same shape at the %s level',
    async (level) => {
      const { cyrillic } = studies();
      const body = { level, filters: { StudyInstanceUID: cyrillic.studyInstanceUid }, limit: 1 };
      const [dimse, dicomweb] = [await query('dimse', body), await query('dicomweb', body)];
      expect(dimse).toHaveLength(1);
      expect(dicomweb).toHaveLength(1);
      // Sorted by UID, so the one answered is the same dataset on both sides.
      const comparable = async (protocol: Protocol): Promise<DicomJson> => {
        const found = await query(protocol, { ...body, limit: 10 });
        const uniqueKey = {
          study: Tag.StudyInstanceUID,
          series: Tag.SeriesInstanceUID,
          instance: Tag.SOPInstanceUID,
        }[level];
        return found.sort((a, b) =>
          (dicomJsonString(a, uniqueKey) ?? '').localeCompare(dicomJsonString(b, uniqueKey) ?? ''),
        )[0];
      };
      const [a, b] = [await comparable('dimse'), await comparable('dicomweb')];
      for (const tag of BASIC_TAGS[level]) {
        expect({ tag, present: a[tag] !== undefined }).toEqual({ tag, present: true });
      }
      // Every attribute C-FIND answered, QIDO-RS answers identically (vr, values, trimmed PN,
      // numbers for IS), except where the protocols differ by design: (0008,0054) RetrieveAETitle
      // is C-FIND's, (0008,1190) RetrieveURL is QIDO-RS's.
      for (const tag of Object.keys(a).filter((key) => key !== '00080054')) {
        expect({ tag, attribute: b[tag] }).toEqual({ tag, attribute: a[tag] });
      }
    },
  );

  describe('refusals', () => {
    it.each([
      ['unknown keyword', 'study', { Nonsense: 'x' }, 'filters.Nonsense'],
      ['key of a lower level', 'study', { Modality: 'CT' }, 'filters.Modality'],
      ['wildcard in a UID', 'study', { StudyInstanceUID: '1.2.*' }, 'filters.StudyInstanceUID'],
      ['bad date', 'study', { StudyDate: '20240230' }, 'filters.StudyDate'],
      ['bad date range', 'study', { StudyDate: '20240131-20240101' }, 'filters.StudyDate'],
      ['non-string value', 'study', { PatientID: 7 }, 'filters.PatientID'],
    ])('%s: 400 naming the field', async (_, level, filters, field) => {
      for (const protocol of PROTOCOLS) {
        await expectFieldError(
          await service.call('POST', `/pacs-configs/${configs[protocol]}/query`, { level, filters }),
          field,
        );
      }
    });

    it('a bad level, limit, offset or an unknown body field: 400 naming it', async () => {
      const call = (body: Record<string, unknown>) =>
        service.call('POST', `/pacs-configs/${configs.dimse}/query`, body);
      await expectFieldError(await call({ level: 'patient' }), 'level');
      await expectFieldError(await call({ level: 'study', limit: 0 }), 'limit');
      await expectFieldError(await call({ level: 'study', limit: 1001 }), 'limit');
      await expectFieldError(await call({ level: 'study', offset: -1 }), 'offset');
      await expectFieldError(await call({ level: 'study', filters: ['x'] }), 'filters');
      await expectFieldError(await call({ level: 'study', bogus: true }), 'bogus');
    });

    it('a configuration that does not offer import: 409', async () => {
      const problem = await expectProblem(
        await service.call('POST', `/pacs-configs/${configs.noImport}/query`, { level: 'study' }),
        409,
      );
      expect(problem.detail).toContain('does not offer import');
    });

    it('while transfers are switched off: 409 saying so', async () => {
      await setAllowTransfer(false);
      try {
        for (const protocol of PROTOCOLS) {
          const problem = await expectProblem(
            await service.call('POST', `/pacs-configs/${configs[protocol]}/query`, { level: 'study' }),
            409,
          );
          expect(problem.detail).toContain('transfers are switched off');
        }
      } finally {
        await setAllowTransfer(true);
      }
    });

    it('an unknown id: 404; a malformed id: 400', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      const problem = await expectProblem(
        await service.call('POST', `/pacs-configs/${unknown}/query`, { level: 'study' }),
        404,
      );
      expect(problem.detail).toContain(unknown);
      await expectProblem(
        await service.call('POST', '/pacs-configs/not-a-uuid/query', { level: 'study' }),
        400,
      );
    });

    it('the PACS refuses: 502 with the reason in plain words', async () => {
      const unregistered = await create({
        type: 'dimse',
        aeTitle: 'ORTHANC_NOBODY',
        name: 'Orthanc, calling AE unknown to it',
        host: peers.orthanc.host,
        port: peers.orthanc.port,
        queryRetrieve: true,
        queryAeTitle: 'NOBODY',
        timeoutMs: 5_000,
      });
      const dimse = await expectProblem(
        await service.call('POST', `/pacs-configs/${unregistered}/query`, { level: 'study' }),
        502,
      );
      expect(dimse.detail).toMatch(/^the query of "ORTHANC_NOBODY" failed: association (aborted|rejected)/);

      const wrong = `wrong-${randomBytes(6).toString('hex')}`;
      const badPassword = await create({
        type: 'dicomweb',
        aeTitle: 'ORTHANC_DW_BAD',
        name: 'Orthanc, wrong password',
        url: peers.orthanc.dicomWebUrl,
        qidoRs: true,
        auth: { method: 'basic', username: peers.orthanc.user, password: wrong },
        timeoutMs: 5_000,
      });
      const dicomweb = await expectProblem(
        await service.call('POST', `/pacs-configs/${badPassword}/query`, { level: 'study' }),
        502,
      );
      expect(dicomweb.detail).toContain('authentication rejected (HTTP 401)');
      expect(dicomweb.detail).not.toContain(wrong);
    });
  });

  it('is documented in OpenAPI, with a PN value in the response example', async () => {
    const document = (await service.apiDocument()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const operation = document.paths['/api/v1/pacs-configs/{id}/query'].post;
    expect(Object.keys(operation.responses)).toEqual(
      expect.arrayContaining(['200', '400', '404', '409', '502', '503']),
    );
    expect(JSON.stringify(document)).toContain('"Alphabetic":"Петров^Анна"');
  });
});

describe('query with no worker running', () => {
  let service: RunningConfigService;

  beforeAll(async () => {
    service = await startConfigService();
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('answers 503 naming the worker', async () => {
    const current = (await (await service.call('GET', '/settings')).json()) as Record<string, unknown>;
    await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: current.defaultCallingAeTitle,
    });
    const response = await service.call('POST', '/pacs-configs', {
      type: 'dimse',
      aeTitle: 'LONELY',
      name: 'nobody queries me',
      host: '127.0.0.1',
      port: 104,
      queryRetrieve: true,
      timeoutMs: 1_000,
    });
    const { id } = (await response.json()) as { id: string };
    const problem = await expectProblem(
      await service.call('POST', `/pacs-configs/${id}/query`, { level: 'study' }),
      503,
    );
    expect(problem.detail).toBe('no dimse-worker answered within 6000 ms — is it running?');
  });
});
