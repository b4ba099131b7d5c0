import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { SopClass, Tag, encodePart10, generateStudy, newUid, type GeneratedStudy } from '@pacslink/testing';
import { expectProblem, startConfigService, type RunningConfigService } from './config-service.harness';

interface Part {
  contentType?: string;
  /** A file streamed from disk, or bytes. */
  source: string | Buffer;
}

interface UploadAnswer {
  stored: {
    studyInstanceUid: string;
    seriesInstanceUid: string;
    sopInstanceUid: string;
    sopClassUid: string;
  }[];
  failed: { part: number; sopInstanceUid?: string; reason: string }[];
}

interface StudySummary {
  studyInstanceUid: string;
  patientName: string | null;
  patientId: string | null;
  studyDate: string | null;
  accessionNumber: string | null;
  studyDescription: string | null;
  modalities: string[];
  seriesCount: number;
  instanceCount: number;
  sizeBytes: number;
}

const execFileAsync = promisify(execFile);
const BOUNDARY = 'pacslink-test-boundary-7f3a';
const MULTIPART = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

/** A multipart/related body whose parts stream from disk one after another. */
function multipartBody(parts: readonly Part[]): Readable {
  return Readable.from(
    (async function* () {
      for (const part of parts) {
        const type = part.contentType === undefined ? '' : `Content-Type: ${part.contentType}\r\n`;
        yield Buffer.from(`--${BOUNDARY}\r\n${type}\r\n`);
        if (typeof part.source === 'string') yield* createReadStream(part.source);
        else yield part.source;
        yield Buffer.from('\r\n');
      }
      yield Buffer.from(`--${BOUNDARY}--\r\n`);
    })(),
  );
}

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

const dicomFiles = (study: GeneratedStudy): Part[] =>
  study.files.map((file) => ({ contentType: 'application/dicom', source: file }));

const instancePath = (study: GeneratedStudy, series: number, instance: number): string =>
  [
    'studies',
    study.studyInstanceUid,
    study.series[series].seriesInstanceUid,
    `${study.series[series].instances[instance].sopInstanceUid}.dcm`,
  ].join('/');

describe('study store (POST/GET/DELETE /api/v1/studies)', () => {
  let service: RunningConfigService;
  let workDir: string;
  let storeDir: string;
  const studies: Partial<Record<'ISO_IR 144' | 'ISO_IR 100' | 'ISO_IR 192', GeneratedStudy>> = {};

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'studies-e2e-'));
    storeDir = join(workDir, 'store');
    service = await startConfigService({ env: { STORE_DIR: storeDir } });
    for (const charset of ['ISO_IR 144', 'ISO_IR 100', 'ISO_IR 192'] as const) {
      studies[charset] = await generateStudy(join(workDir, 'generated'), {
        series: 2,
        instancesPerSeries: 2,
        instanceBytes: 40_000,
        patient: { charset },
      });
    }
  });

  afterAll(async () => {
    await service?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  const studyIn = (charset: keyof typeof studies): GeneratedStudy => {
    const study = studies[charset];
    if (study === undefined) throw new Error(`no study in ${charset}`);
    return study;
  };

  function upload(body: Readable | Buffer, contentType: string | undefined): Promise<Response> {
    return fetch(`${service.baseUrl}/api/v1/studies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${service.apiKey}`,
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
      },
      body: body instanceof Readable ? (Readable.toWeb(body) as ReadableStream<Uint8Array>) : body,
      duplex: 'half',
    });
  }

  async function getStudy(uid: string): Promise<StudySummary & { series: unknown[] }> {
    const response = await service.call('GET', `/studies/${uid}`);
    expect(response.status).toBe(200);
    return (await response.json()) as StudySummary & { series: unknown[] };
  }

  it('stores a multipart upload of three studies, byte for byte, and lists them with decoded names', async () => {
    const all = [studyIn('ISO_IR 144'), studyIn('ISO_IR 100'), studyIn('ISO_IR 192')];
    const response = await upload(multipartBody(all.flatMap(dicomFiles)), MULTIPART);
    expect(response.status).toBe(200);
    const answer = (await response.json()) as UploadAnswer;
    expect(answer.failed).toEqual([]);
    expect(answer.stored).toHaveLength(12);
    expect(answer.stored[0]).toEqual({
      studyInstanceUid: all[0].studyInstanceUid,
      seriesInstanceUid: all[0].series[0].seriesInstanceUid,
      sopInstanceUid: all[0].series[0].instances[0].sopInstanceUid,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    });

    for (const study of all) {
      for (const [s, series] of study.series.entries()) {
        for (const [i, instance] of series.instances.entries()) {
          const stored = await readFile(join(storeDir, instancePath(study, s, i)));
          expect(stored.equals(await readFile(instance.file))).toBe(true);
        }
      }
    }
    expect(await filesUnder(join(storeDir, 'tmp'))).toEqual([]);

    const list = await service.call('GET', '/studies?limit=10');
    expect(list.status).toBe(200);
    const page = (await list.json()) as {
      items: StudySummary[];
      total: number;
      limit: number;
      offset: number;
    };
    expect(page).toMatchObject({ total: 3, limit: 10, offset: 0 });
    for (const study of all) {
      expect(page.items).toContainEqual({
        studyInstanceUid: study.studyInstanceUid,
        patientName: study.patient.name,
        patientId: study.patient.id,
        studyDate: expect.stringMatching(/^\d{8}$/) as unknown,
        accessionNumber: study.accessionNumber,
        studyDescription: study.studyDescription,
        modalities: ['CT'],
        seriesCount: 2,
        instanceCount: 4,
        sizeBytes: study.totalBytes,
      });
    }

    const detail = await getStudy(all[0].studyInstanceUid);
    expect(detail.patientName).toBe('Иванов^Иван');
    expect(detail.series).toEqual(
      [...all[0].series]
        .sort((a, b) => (a.seriesInstanceUid < b.seriesInstanceUid ? -1 : 1))
        .map((series) => ({
          seriesInstanceUid: series.seriesInstanceUid,
          modality: 'CT',
          instanceCount: 2,
          sizeBytes: series.instances.reduce((sum, instance) => sum + instance.bytes, 0),
        })),
    );

    const [entry] = await service.auditEntries();
    expect(entry).toMatchObject({
      actor: service.actor,
      action: 'study.uploaded',
      entityType: 'study',
      entityId: null,
      change: { instancesStored: 12, failed: [] },
    });
    const audited = JSON.stringify(entry);
    for (const study of all) expect(audited).not.toContain(study.patient.name);
  });

  it('stores the good parts and refuses a corrupt one and a non-DICOM one with their reasons (202)', async () => {
    const study = await generateStudy(join(workDir, 'generated'), { series: 1, instancesPerSeries: 3 });
    const [first, second, third] = study.series[0].instances;
    const secondBytes = await readFile(second.file);
    const response = await upload(
      multipartBody([
        { contentType: 'application/dicom', source: first.file },
        { contentType: 'application/dicom', source: secondBytes.subarray(0, secondBytes.length - 100) },
        { contentType: 'text/plain', source: Buffer.from('hello') },
        { contentType: 'application/dicom', source: third.file },
      ]),
      MULTIPART,
    );
    expect(response.status).toBe(202);
    const answer = (await response.json()) as UploadAnswer;
    expect(answer.stored.map((instance) => instance.sopInstanceUid)).toEqual([
      first.sopInstanceUid,
      third.sopInstanceUid,
    ]);
    expect(answer.failed).toEqual([
      {
        part: 2,
        sopInstanceUid: second.sopInstanceUid,
        reason: `truncated: the file ends inside an element, after ${secondBytes.length - 100} bytes`,
      },
      { part: 3, reason: `the part's Content-Type is "text/plain"; expected application/dicom` },
    ]);
    expect((await getStudy(study.studyInstanceUid)).instanceCount).toBe(2);
    expect(await filesUnder(join(storeDir, 'studies', study.studyInstanceUid))).toHaveLength(2);
    expect(await filesUnder(join(storeDir, 'tmp'))).toEqual([]);
  });

  it('answers 409 problem+json with every reason when no part is stored', async () => {
    const response = await upload(
      multipartBody([
        { contentType: 'application/dicom', source: Buffer.from('not a DICOM file') },
        { contentType: 'application/dicom', source: Buffer.alloc(200) },
      ]),
      MULTIPART,
    );
    const problem = (await expectProblem(response, 409)) as unknown as UploadAnswer & { detail: string };
    expect(problem.detail).toBe('none of the 2 parts was stored');
    expect(problem.stored).toEqual([]);
    expect(problem.failed).toEqual([
      {
        part: 1,
        reason:
          'not a DICOM Part 10 file: 16 bytes, shorter than the 128-byte preamble and "DICM" (PS3.10 7.1)',
      },
      { part: 2, reason: 'not a DICOM Part 10 file: no "DICM" after the 128-byte preamble (PS3.10 7.1)' },
    ]);
  });

  it.each([
    ['image/jpeg', 'Content-Type "image/jpeg" is not accepted'],
    ['application/json', 'Content-Type "application/json" is not accepted'],
    ['multipart/related; boundary=x', 'multipart/related without a type parameter is not accepted'],
    ['multipart/related; type="application/dicom+json"; boundary=x', 'of type "application/dicom+json"'],
    [undefined, 'the request has no Content-Type'],
  ])('refuses Content-Type %j with 415, naming what is accepted', async (contentType, detail) => {
    const response = await upload(Buffer.from('{}'), contentType);
    const problem = await expectProblem(response, 415);
    expect(problem.detail).toContain(detail);
    expect(problem.detail).toContain('accepted: multipart/related; type="application/dicom"');
  });

  it('refuses multipart/related without a boundary (400) and without any part (400)', async () => {
    const noBoundary = await expectProblem(
      await upload(Buffer.from('x'), 'multipart/related; type="application/dicom"'),
      400,
    );
    expect(noBoundary.detail).toBe('multipart/related needs a boundary parameter');
    const empty = await expectProblem(await upload(Buffer.from(`--${BOUNDARY}--\r\n`), MULTIPART), 400);
    expect(empty.detail).toBe('the multipart body holds no part');
  });

  it('reads a part with a header named __proto__ like any other part, and stays up (dicer threw out of its parser on it: CVE-2022-24434)', async () => {
    const body = Buffer.from(
      `--${BOUNDARY}\r\ncontent-type: application/dicom\r\n__proto__: x\r\n\r\nDICM\r\n--${BOUNDARY}--\r\n`,
    );
    const problem = await expectProblem(await upload(body, MULTIPART), 409);
    expect(problem).toMatchObject({
      failed: [{ part: 1, reason: expect.stringContaining('DICM') as string }],
    });
    expect((await fetch(`${service.baseUrl}/health/live`)).status).toBe(200);
  });

  it('stores a single application/dicom body, and the same SOP Instance UID again replaces it', async () => {
    const study = await generateStudy(join(workDir, 'generated'), { series: 1, instancesPerSeries: 1 });
    const file = study.files[0];
    for (let round = 0; round < 2; round++) {
      const response = await upload(createReadStream(file), 'application/dicom');
      expect(response.status).toBe(200);
      expect(((await response.json()) as UploadAnswer).stored).toHaveLength(1);
    }
    expect((await getStudy(study.studyInstanceUid)).instanceCount).toBe(1);
    expect(await filesUnder(join(storeDir, 'studies', study.studyInstanceUid))).toHaveLength(1);

    const bytes = await readFile(file);
    bytes.write('DICX', 128, 'latin1');
    // Large enough to be still arriving when it is refused: the answer must come all the same.
    const refused = await expectProblem(
      await upload(Buffer.concat([bytes, Buffer.alloc(8_000_000)]), 'application/dicom'),
      409,
    );
    expect(refused).toMatchObject({
      failed: [
        { part: 1, reason: 'not a DICOM Part 10 file: no "DICM" after the 128-byte preamble (PS3.10 7.1)' },
      ],
    });
  });

  it('moves an instance that comes again under another study, dropping the study it left empty', async () => {
    const sopInstanceUid = newUid();
    const [from, to] = [newUid(), newUid()];
    const fileOf = (studyInstanceUid: string): Buffer =>
      Buffer.concat(
        encodePart10(
          [
            [Tag.SOPClassUID, 'UI', SopClass.CTImageStorage],
            [Tag.SOPInstanceUID, 'UI', sopInstanceUid],
            [Tag.Modality, 'CS', 'CT'],
            [Tag.StudyInstanceUID, 'UI', studyInstanceUid],
            [Tag.SeriesInstanceUID, 'UI', `${studyInstanceUid}.1`],
          ],
          { sopClassUid: SopClass.CTImageStorage, sopInstanceUid },
        ),
      );
    expect((await upload(fileOf(from), 'application/dicom')).status).toBe(200);
    expect((await upload(fileOf(to), 'application/dicom')).status).toBe(200);

    await expectProblem(await service.call('GET', `/studies/${from}`), 404);
    expect((await getStudy(to)).instanceCount).toBe(1);
    expect(await filesUnder(join(storeDir, 'studies', from))).toEqual([]);
    expect(await filesUnder(join(storeDir, 'studies', to))).toEqual([`${to}.1/${sopInstanceUid}.dcm`]);
  });

  it('deletes a study: rows, files and an audit entry; then 404; a bad UID is 400', async () => {
    const study = await generateStudy(join(workDir, 'generated'), { series: 1, instancesPerSeries: 2 });
    expect((await upload(multipartBody(dicomFiles(study)), MULTIPART)).status).toBe(200);
    const uid = study.studyInstanceUid;

    expect((await service.call('DELETE', `/studies/${uid}`)).status).toBe(204);
    await expectProblem(await service.call('GET', `/studies/${uid}`), 404);
    await expectProblem(await service.call('DELETE', `/studies/${uid}`), 404);
    expect(await filesUnder(join(storeDir, 'studies', uid))).toEqual([]);
    const [entry] = await service.auditEntries();
    expect(entry).toMatchObject({
      action: 'study.deleted',
      entityType: 'study',
      entityId: uid,
      change: { instanceCount: 2, sizeBytes: study.totalBytes },
    });

    const bad = await expectProblem(await service.call('GET', '/studies/1.2.abc'), 400);
    expect(bad.errors).toEqual([
      {
        field: 'studyInstanceUid',
        message:
          'studyInstanceUid is not a valid UID (PS3.5 9.1): it may hold only digits and periods (found U+0061)',
      },
    ]);
    await expectProblem(await service.call('DELETE', '/studies/1..2'), 400);
  });

  it('refuses to delete a study while a transfer of it is queued or running (409)', async () => {
    const study = await generateStudy(join(workDir, 'generated'), { series: 1, instancesPerSeries: 1 });
    expect((await upload(multipartBody(dicomFiles(study)), MULTIPART)).status).toBe(200);
    const sql = await service.connectSql();
    const {
      rows: [transfer],
    } = await sql.query<{ id: string }>(
      `INSERT INTO transfer (id, direction, pacs_config_id, pacs_ae_title, study_instance_uid, status, method,
              total, created_by)
            VALUES (gen_random_uuid(), 'export', gen_random_uuid(), 'ORTHANC', $1, 'running', 'STOW-RS', 1, 'test')
       RETURNING id`,
      [study.studyInstanceUid],
    );

    const refused = await expectProblem(
      await service.call('DELETE', `/studies/${study.studyInstanceUid}`),
      409,
    );
    expect(refused.detail).toBe(
      `study ${study.studyInstanceUid} is being transferred; cancel the transfer or wait for it to end`,
    );
    expect((await getStudy(study.studyInstanceUid)).instanceCount).toBe(1);
    expect(await filesUnder(join(storeDir, 'studies', study.studyInstanceUid))).toHaveLength(1);

    await sql.query(`UPDATE transfer SET status = 'completed' WHERE id = $1`, [transfer.id]);
    expect((await service.call('DELETE', `/studies/${study.studyInstanceUid}`)).status).toBe(204);
  });

  it('leaves nothing of a single application/dicom body cut mid-stream', async () => {
    const study = await generateStudy(join(workDir, 'generated'), {
      series: 1,
      instancesPerSeries: 1,
      instanceBytes: 400_000,
    });
    const bytes = await readFile(study.files[0]);
    const request = httpRequest(new URL(`${service.baseUrl}/api/v1/studies`), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${service.apiKey}`,
        'content-type': 'application/dicom',
        'content-length': String(bytes.length),
      },
    });
    request.on('error', () => undefined);
    await new Promise<void>((resolve) => request.write(bytes.subarray(0, 200_000), () => resolve()));
    await waitFor(async () => (await filesUnder(join(storeDir, 'tmp'))).length === 1);
    request.destroy();

    await waitFor(async () => (await filesUnder(join(storeDir, 'tmp'))).length === 0);
    expect(await filesUnder(join(storeDir, 'studies', study.studyInstanceUid))).toEqual([]);
    await expectProblem(await service.call('GET', `/studies/${study.studyInstanceUid}`), 404);
  });

  it('keeps the parts fully received when the connection is cut mid-part, and nothing of the cut one', async () => {
    const study = await generateStudy(join(workDir, 'generated'), {
      series: 1,
      instancesPerSeries: 2,
      instanceBytes: 400_000,
    });
    const [first, second] = study.series[0].instances;
    const head = Buffer.concat([
      Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`),
      await readFile(first.file),
      Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`),
      (await readFile(second.file)).subarray(0, 200_000),
    ]);
    const url = new URL(`${service.baseUrl}/api/v1/studies`);
    const request = httpRequest(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${service.apiKey}`,
        'content-type': MULTIPART,
        'content-length': String(head.length + 1_000_000),
      },
    });
    request.on('error', () => undefined);
    await new Promise<void>((resolve) => request.write(head, () => resolve()));
    // The first part is in place and the second being written when the connection goes (a lone
    // temporary file alone may still be the first part's own, on a slow machine: wait for both).
    await waitFor(
      async () =>
        (await filesUnder(join(storeDir, 'studies', study.studyInstanceUid))).length === 1 &&
        (await filesUnder(join(storeDir, 'tmp'))).length === 1,
    );
    request.destroy();

    await waitFor(async () => (await filesUnder(join(storeDir, 'tmp'))).length === 0);
    await waitFor(
      async () => (await service.call('GET', `/studies/${study.studyInstanceUid}`)).status === 200,
    );
    expect(await filesUnder(join(storeDir, 'studies', study.studyInstanceUid))).toEqual([
      instancePath(study, 0, 0).slice(`studies/${study.studyInstanceUid}/`.length),
    ]);
    expect((await getStudy(study.studyInstanceUid)).instanceCount).toBe(1);
  });

  it('streams a 300 MB upload to disk with the service process growing far less than the body', async () => {
    const study = await generateStudy(join(workDir, 'large'), {
      series: 1,
      instancesPerSeries: 30,
      instanceBytes: 10_000_000,
    });
    expect(study.totalBytes).toBeGreaterThan(290_000_000);
    const bodyFile = join(workDir, 'large-body.bin');
    await pipeline(multipartBody(dicomFiles(study)), createWriteStream(bodyFile));
    const before = process.memoryUsage();
    const peak = { rss: before.rss, arrayBuffers: before.arrayBuffers };
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peak.rss = Math.max(peak.rss, now.rss);
      peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
    }, 10);
    try {
      // curl, a process of its own, streams the body from disk (-T): only the service is in this one.
      const { stdout } = await execFileAsync('curl', [
        '-sS',
        '-X',
        'POST',
        '-T',
        bodyFile,
        '-H',
        `authorization: Bearer ${service.apiKey}`,
        '-H',
        `content-type: ${MULTIPART}`,
        '-w',
        '\\n%{http_code}',
        `${service.baseUrl}/api/v1/studies`,
      ]);
      const [body, status] = stdout.split('\n');
      expect(status).toBe('200');
      expect((JSON.parse(body) as UploadAnswer).stored).toHaveLength(30);
    } finally {
      clearInterval(sampler);
    }
    // The service runs in this process (curl sends from its own). Resident memory already holds what
    // generating the study allocated, so the buffers alive at once are the sharper measure.
    const mb = (bytes: number) => bytes / 2 ** 20;
    expect(mb(peak.rss - before.rss)).toBeLessThan(100);
    expect(mb(peak.arrayBuffers - before.arrayBuffers)).toBeLessThan(50);
    expect((await getStudy(study.studyInstanceUid)).sizeBytes).toBe(study.totalBytes);
  }, 180_000);
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
