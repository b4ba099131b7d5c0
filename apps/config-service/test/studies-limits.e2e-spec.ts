import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  captureLogs,
  eventually,
  generateStudy,
  type CapturedLogs,
  type GeneratedStudy,
} from '@pacslink/testing';
import { expectProblem, startConfigService, type RunningConfigService } from './config-service.harness';

// Issue 9, "Bodies and inputs": POST /studies has a limit per instance, per request and on the
// number of parts (413 naming the limit and its variable; what was stored before stays, the file
// being written does not), and the server's timeouts let a steady upload take as long as it needs
// while a client that stops sending is cut. The limits and the idle timeout are set small here so
// that each test takes seconds.

const LIMITS = { instance: 60_000, request: 300_000, parts: 20 };
const IDLE_MS = 1_000;
const HEADERS_MS = 5_000;
const BOUNDARY = 'pacslink-limits-boundary';
const MULTIPART = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;
const execFileAsync = promisify(execFile);

interface Part {
  contentType?: string;
  bytes: Buffer;
}

interface UploadAnswer {
  stored: { sopInstanceUid: string }[];
  failed: { part: number; reason: string }[];
}

type TooLarge = UploadAnswer & { detail: string };

function multipart(parts: readonly Part[]): Buffer {
  return Buffer.concat([
    ...parts.flatMap((part) => [
      Buffer.from(`--${BOUNDARY}\r\nContent-Type: ${part.contentType ?? 'application/dicom'}\r\n\r\n`),
      part.bytes,
      Buffer.from('\r\n'),
    ]),
    Buffer.from(`--${BOUNDARY}--\r\n`),
  ]);
}

/** `bytes` in `chunks` pieces, one every `everyMs`: a slow but steady client. */
function paced(bytes: Buffer, chunks: number, everyMs: number): Readable {
  const size = Math.ceil(bytes.length / chunks);
  return Readable.from(
    (async function* () {
      for (let at = 0; at < bytes.length; at += size) {
        yield bytes.subarray(at, at + size);
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })(),
  );
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('POST /studies: size limits, and server timeouts for long uploads', () => {
  let logs: CapturedLogs;
  let service: RunningConfigService;
  let workDir: string;
  let storeDir: string;
  let small: GeneratedStudy;
  let big: GeneratedStudy;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-upload-limits-'));
    storeDir = join(workDir, 'store');
    service = await startConfigService({
      env: {
        STORE_DIR: storeDir,
        LOG_LEVEL: 'warn',
        UPLOAD_MAX_INSTANCE_BYTES: String(LIMITS.instance),
        UPLOAD_MAX_REQUEST_BYTES: String(LIMITS.request),
        UPLOAD_MAX_PARTS: String(LIMITS.parts),
        HTTP_IDLE_TIMEOUT_MS: String(IDLE_MS),
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      },
      beforeBoot: () => {
        logs = captureLogs();
      },
    });
    small = await generateStudy(workDir, { series: 1, instancesPerSeries: 16, instanceBytes: 20_000 });
    big = await generateStudy(workDir, { series: 1, instancesPerSeries: 1, instanceBytes: 100_000 });
    expect(big.series[0].instances[0].bytes).toBeGreaterThan(LIMITS.instance);
    expect(small.totalBytes).toBeGreaterThan(LIMITS.request);
  });

  afterAll(async () => {
    await service?.stop();
    logs?.restore();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const smallParts = async (count: number): Promise<Part[]> =>
    Promise.all(small.files.slice(0, count).map(async (file) => ({ bytes: await readFile(file) })));
  const bigPart = async (): Promise<Part> => ({ bytes: await readFile(big.files[0]) });

  function post(body: Buffer | Readable, contentType = MULTIPART): Promise<Response> {
    return fetch(`${service.baseUrl}/api/v1/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${service.apiKey}`, 'content-type': contentType },
      body: body instanceof Readable ? (Readable.toWeb(body) as ReadableStream<Uint8Array>) : body,
      duplex: 'half',
    });
  }

  async function instanceCount(studyInstanceUid: string): Promise<number> {
    const answer = await service.call('GET', `/studies/${studyInstanceUid}`);
    if (answer.status === 404) return 0;
    return ((await answer.json()) as { instanceCount: number }).instanceCount;
  }

  async function expectNothingHalfWritten(): Promise<void> {
    await eventually('the temporary directory to be empty', async () =>
      (await filesUnder(join(storeDir, 'tmp'))).length === 0 ? true : undefined,
    );
  }

  async function removeStudy(studyInstanceUid: string): Promise<void> {
    const answer = await service.call('DELETE', `/studies/${studyInstanceUid}`);
    expect([204, 404]).toContain(answer.status);
  }

  describe('limits (413 naming the limit and its variable)', () => {
    afterEach(async () => {
      await removeStudy(small.studyInstanceUid);
      await removeStudy(big.studyInstanceUid);
    });

    it('an instance above UPLOAD_MAX_INSTANCE_BYTES: the ones before it stay stored, it and the rest do not', async () => {
      const [first, second, fourth] = await smallParts(3);
      const answer = await post(multipart([first, second, await bigPart(), fourth]));
      const problem = (await expectProblem(answer, 413)) as unknown as TooLarge;
      expect(problem).toMatchObject({
        type: 'https://pacslink.dev/problems/upload-too-large',
        title: 'upload too large',
        detail: `instance (part 3) exceeds UPLOAD_MAX_INSTANCE_BYTES = ${LIMITS.instance} bytes; the 2 instances received whole before it were stored, the rest of the body was not read`,
        failed: [],
      });
      const storedUids = small.series[0].instances.slice(0, 2).map((instance) => instance.sopInstanceUid);
      expect(problem.stored.map((instance) => instance.sopInstanceUid)).toEqual(storedUids);
      // What the answer says is stored is stored and indexed; nothing of the big one is left.
      expect(await instanceCount(small.studyInstanceUid)).toBe(2);
      expect(await instanceCount(big.studyInstanceUid)).toBe(0);
      await expectNothingHalfWritten();
      expect(await filesUnder(join(storeDir, 'studies', small.studyInstanceUid))).toHaveLength(2);

      const [entry] = await service.auditEntries();
      expect(entry).toMatchObject({
        action: 'study.uploaded',
        change: { instancesStored: 2, refusal: problem.detail },
      });
    });

    it('a body above UPLOAD_MAX_REQUEST_BYTES (no Content-Length): stopped where it crossed, the instances before it kept', async () => {
      // Streamed, so the body goes chunked: only counting can find it too large.
      const body = multipart(await smallParts(16));
      const answer = await post(Readable.from([body]));
      const problem = (await expectProblem(answer, 413)) as unknown as TooLarge;
      expect(problem.detail).toMatch(
        new RegExp(
          `^the request body exceeds UPLOAD_MAX_REQUEST_BYTES = ${LIMITS.request} bytes; the \\d+ instances received whole before it were stored, the rest of the body was not read$`,
        ),
      );
      // Exactly the parts whose closing delimiter lies within the limit arrived whole.
      const delimiter = Buffer.from(`\r\n--${BOUNDARY}`);
      let whole = 0;
      for (let at = body.indexOf(delimiter); at >= 0; at = body.indexOf(delimiter, at + 1)) {
        if (at + delimiter.length <= LIMITS.request) whole++;
      }
      const stored = problem.stored.length;
      expect(stored).toBe(whole);
      expect(stored).toBeLessThan(16);
      expect(await instanceCount(small.studyInstanceUid)).toBe(stored);
      await expectNothingHalfWritten();
    });

    it('more parts than UPLOAD_MAX_PARTS: 413 at the first part too many', async () => {
      const note = { contentType: 'text/plain', bytes: Buffer.from('not DICOM') };
      const answer = await post(multipart(Array.from({ length: LIMITS.parts + 5 }, () => note)));
      const problem = (await expectProblem(answer, 413)) as unknown as TooLarge;
      expect(problem.detail).toBe(
        `the body holds more than UPLOAD_MAX_PARTS = ${LIMITS.parts} parts; no instance was stored, the rest of the body was not read`,
      );
      expect(problem.failed).toHaveLength(LIMITS.parts);
    });

    it('a Content-Length above UPLOAD_MAX_REQUEST_BYTES is refused before a byte of the body is sent', async () => {
      // Only the headers go out: the answer must come without the body.
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(`${service.baseUrl}/api/v1/studies`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${service.apiKey}`,
            'content-type': MULTIPART,
            'content-length': '10000000000',
          },
        });
        request.on('error', reject);
        request.on('response', (response: IncomingMessage) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          response.on('end', () => {
            resolve({ status: response.statusCode ?? 0, body: text });
            request.destroy();
          });
        });
        request.flushHeaders();
      });
      expect(status).toBe(413);
      expect((JSON.parse(body) as TooLarge).detail).toBe(
        `the request body (Content-Length 10000000000 bytes) exceeds UPLOAD_MAX_REQUEST_BYTES = ${LIMITS.request} bytes; nothing of the body was read`,
      );
    });

    it('a single application/dicom body above UPLOAD_MAX_INSTANCE_BYTES: by its Content-Length, or as it streams', async () => {
      const bytes = (await bigPart()).bytes;
      const declared = (await expectProblem(
        await post(bytes, 'application/dicom'),
        413,
      )) as unknown as TooLarge;
      expect(declared.detail).toBe(
        `instance (part 1, Content-Length ${bytes.length} bytes) exceeds UPLOAD_MAX_INSTANCE_BYTES = ${LIMITS.instance} bytes; nothing of the body was read`,
      );
      const streamed = (await expectProblem(
        await post(Readable.from([bytes]), 'application/dicom'),
        413,
      )) as unknown as TooLarge;
      expect(streamed.detail).toBe(
        `instance (part 1) exceeds UPLOAD_MAX_INSTANCE_BYTES = ${LIMITS.instance} bytes; no instance was stored, the rest of the body was not read`,
      );
      await expectNothingHalfWritten();
      expect(await instanceCount(big.studyInstanceUid)).toBe(0);
    });

    it('a client still sending gets the 413: curl streaming 20 MB, chunked and with a Content-Length', async () => {
      const bodyFile = join(workDir, 'too-large.multipart');
      const [first] = await smallParts(1);
      const filler = Array.from({ length: 10 }, () => ({ bytes: Buffer.alloc(2_000_000) }));
      await writeFile(bodyFile, multipart([first, await bigPart(), ...filler]));
      const curl = async (...headers: string[]) => {
        const { stdout } = await execFileAsync('curl', [
          '-sS',
          '-X',
          'POST',
          '-T',
          bodyFile,
          ...headers.flatMap((header) => ['-H', header]),
          '-H',
          `authorization: Bearer ${service.apiKey}`,
          '-H',
          `content-type: ${MULTIPART}`,
          '-w',
          '\\n%{http_code}',
          `${service.baseUrl}/api/v1/studies`,
        ]);
        const [body, status] = stdout.split('\n');
        return { status, detail: (JSON.parse(body) as TooLarge).detail };
      };
      // Chunked: found as it streams, at the second part, while curl is still sending.
      expect(await curl('transfer-encoding: chunked')).toEqual({
        status: '413',
        detail: `instance (part 2) exceeds UPLOAD_MAX_INSTANCE_BYTES = ${LIMITS.instance} bytes; the 1 instances received whole before it were stored, the rest of the body was not read`,
      });
      // With its Content-Length (curl sends "Expect: 100-continue" first): refused before the body.
      expect(await curl()).toMatchObject({
        status: '413',
        detail: expect.stringMatching(
          /^the request body \(Content-Length \d+ bytes\) exceeds UPLOAD_MAX_REQUEST_BYTES/,
        ) as unknown,
      });
    });
  });

  it('the OpenAPI document names the 413 of POST /studies and its body', async () => {
    const answer = await fetch(`${service.baseUrl}/api/docs-json`, {
      headers: { authorization: `Bearer ${service.apiKey}` },
    });
    const document = (await answer.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    const tooLarge = document.paths['/api/v1/studies'].post.responses['413'];
    expect(tooLarge.description).toContain('UPLOAD_MAX_INSTANCE_BYTES');
    expect(tooLarge).toMatchObject({
      content: {
        'application/problem+json': { schema: { $ref: '#/components/schemas/UploadTooLargeProblem' } },
      },
    });
    expect(Object.keys(document.components.schemas.UploadTooLargeProblem.properties)).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'stored', 'failed']),
    );
  });

  it('an upload refused for its Content-Type is not read to its end: the connection closes within seconds', async () => {
    const request = httpRequest(`${service.baseUrl}/api/v1/studies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${service.apiKey}`,
        'content-type': 'text/plain',
        'content-length': String(LIMITS.request - 1),
      },
    });
    request.on('error', () => undefined);
    let closed = false;
    request.on('close', () => (closed = true));
    const status = new Promise<number>((resolve) =>
      request.on('response', (response: IncomingMessage) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }),
    );
    // A slow client still sending: 1 KB every 100 ms would take 30 s to send the whole body.
    const sender = setInterval(() => request.write(Buffer.alloc(1_000)), 100);
    try {
      expect(await status).toBe(415);
      await eventually('the server closing the connection', () => (closed ? true : undefined), 5_000);
    } finally {
      clearInterval(sender);
      request.destroy();
    }
  });

  describe('timeouts', () => {
    it('runs without a time limit per request, cuts a connection idle for HTTP_IDLE_TIMEOUT_MS', () => {
      const server = service.app.getHttpServer() as Server;
      // Node's default requestTimeout (300 s) cut a 2 GB upload at 5 MB/s (400 s).
      expect(server.requestTimeout).toBe(0);
      expect(server.timeout).toBe(IDLE_MS);
      expect(server.headersTimeout).toBe(HEADERS_MS);
    });

    it('a slow but steady upload lasting many idle timeouts finishes', async () => {
      const body = multipart(await smallParts(3));
      const started = Date.now();
      // About 5 s in all, a chunk every 250 ms: four times the idle timeout, never idle for one.
      const answer = await post(paced(body, 20, 250));
      expect(Date.now() - started).toBeGreaterThan(4 * IDLE_MS);
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as UploadAnswer).stored).toHaveLength(3);
      expect(await instanceCount(small.studyInstanceUid)).toBe(3);
      await removeStudy(small.studyInstanceUid);
    });

    it('a client that stops mid-body is cut after the idle timeout: the file being written removed, nothing of it indexed, a warning logged', async () => {
      const [first, second] = await smallParts(2);
      const whole = multipart([first, second]);
      // The first part whole, half of the second, then silence.
      const sent = whole.subarray(0, whole.length - second.bytes.length / 2);
      const request = httpRequest(`${service.baseUrl}/api/v1/studies`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${service.apiKey}`,
          'content-type': MULTIPART,
          'content-length': String(whole.length),
        },
      });
      const closed = new Promise<number>((resolve) => request.on('close', () => resolve(Date.now())));
      request.on('error', () => undefined);
      await new Promise<void>((resolve) => request.write(sent, () => resolve()));
      const silentSince = Date.now();
      await eventually('the second part being written', async () =>
        (await filesUnder(join(storeDir, 'tmp'))).length === 1 ? true : undefined,
      );
      const closedAt = await Promise.race([
        closed,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), IDLE_MS + 3_000)),
      ]);
      request.destroy();
      expect(closedAt).toBeDefined();
      const cutAfter = (closedAt ?? Infinity) - silentSince;
      expect(cutAfter).toBeGreaterThanOrEqual(IDLE_MS - 100);
      expect(cutAfter).toBeLessThan(IDLE_MS + 2_000);

      await expectNothingHalfWritten();
      await eventually('the first instance indexed', async () =>
        (await instanceCount(small.studyInstanceUid)) === 1 ? true : undefined,
      );
      expect(await filesUnder(join(storeDir, 'studies', small.studyInstanceUid))).toHaveLength(1);
      const warning = await eventually('the warning', () =>
        logs.entries().find((entry) => entry.msg === 'study upload cut short by the client'),
      );
      expect(warning).toMatchObject({
        level: 'warn',
        stored: 1,
        reason: `the client sent nothing for ${IDLE_MS} ms (HTTP_IDLE_TIMEOUT_MS), and the connection was closed before the body was complete`,
      });
      await removeStudy(small.studyInstanceUid);
    });

    it('an event stream, quiet for many idle timeouts, stays open and delivers the next event', async () => {
      const controller = new AbortController();
      const stream = await fetch(`${service.baseUrl}/api/v1/events?types=pacs-config.*`, {
        headers: { authorization: `Bearer ${service.apiKey}` },
        signal: controller.signal,
      });
      expect(stream.status).toBe(200);
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      // Nothing is written for 3 s (the heartbeat is every 15 s): three idle timeouts.
      await new Promise((resolve) => setTimeout(resolve, 3 * IDLE_MS));
      await service.createPacsConfig({
        type: 'dimse',
        aeTitle: 'QUIET_STREAM',
        name: 'an event for a quiet stream',
        host: 'pacs.example',
        port: 104,
        cStore: true,
      });
      let text = '';
      while (!text.includes('event: pacs-config.created')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
      controller.abort();
      expect(text).toContain('event: pacs-config.created');
    });
  });
});
