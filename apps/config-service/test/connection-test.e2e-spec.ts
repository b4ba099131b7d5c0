import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { connect, type ChannelModel } from 'amqplib';
import { Exchanges } from '@pacslink/contracts';
import {
  startPeers,
  stopPeers,
  type PeerEndpoints,
  freePorts,
  startDcmqrscp,
  startDcmtk,
} from '@pacslink/testing';
import {
  expectFieldError,
  expectProblem,
  startConfigService,
  type RunningConfigService,
} from './config-service.harness';
import { startWorkers } from './workers.harness';

// The contract's "Connection test" through the running services: config-service asks the
// dicomweb-worker and the dimse-worker over RabbitMQ (request/reply), which test real peers.
jest.setTimeout(120_000);

interface TestAnswer {
  ok: boolean;
  message: string;
  detail?: string;
  elapsedMs: number;
}

const LOCAL_DW_SOURCE = 'VIEWER1';
const LOCAL_DW_PACS = 'LOCALDW';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

/** A port on 127.0.0.1 where nothing listens (bound once, then released). */
async function refusedPort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const run = promisify(execFile);

async function answerOf(response: Response): Promise<TestAnswer> {
  expect(response.status).toBe(200);
  const body = (await response.json()) as TestAnswer;
  expect(typeof body.elapsedMs).toBe('number');
  return body;
}

describe('connection test through config-service, dicomweb-worker and dimse-worker', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  const workers: INestApplication[] = [];
  let broker: ChannelModel;
  const commandBodies: string[] = [];
  let local: Server;
  let localUrl: string;
  const localHeaders: IncomingHttpHeaders[] = [];

  const create = (body: Record<string, unknown>) => service.createPacsConfig(body);

  function orthancDicomweb(aeTitle: string, password: string): Record<string, unknown> {
    return {
      type: 'dicomweb',
      aeTitle,
      name: `Orthanc ${aeTitle}`,
      url: peers.orthanc.dicomWebUrl,
      auth: { method: 'basic', username: peers.orthanc.user, password },
      timeoutMs: 10_000,
    };
  }

  beforeAll(async () => {
    peers = await startPeers();
    service = await startConfigService({ env: { SECRETS_KEY: secretsKey } });
    workers.push(...(await startWorkers(service.vhost.url, secretsKey)));

    // Sees every DICOMweb request on the broker, bound before any request is sent.
    broker = await connect(service.vhost.url);
    const channel = await broker.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, Exchanges.Commands, 'dicomweb.#');
    await channel.consume(
      queue,
      (message) => message && commandBodies.push(message.content.toString('utf8')),
      {
        noAck: true,
      },
    );

    // A DICOMweb server of our own: checks the Vidar headers, holds no studies.
    local = createServer((request, response) => {
      localHeaders.push(request.headers);
      const headersOk =
        request.headers.vidarsourceaet === LOCAL_DW_SOURCE && request.headers.vidarpacsaet === LOCAL_DW_PACS;
      if (!headersOk || !request.url?.startsWith('/dicom-web/studies?')) {
        response.writeHead(400, { 'content-type': 'text/plain' });
        response.end('missing Vidar headers');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/dicom+json' });
      response.end('[]');
    });
    localUrl = `http://127.0.0.1:${await listen(local)}/dicom-web`;
  });

  afterAll(async () => {
    await broker?.close();
    if (local) await new Promise<void>((resolve) => local.close(() => resolve()));
    for (const worker of workers) await worker.close();
    await service?.stop();
  });

  describe('DICOMweb', () => {
    it('a saved configuration for Orthanc with HTTP Basic: established, and no plaintext secret on the broker', async () => {
      const id = await create(orthancDicomweb('ORTHANC_DW', peers.orthanc.password));
      const answer = await answerOf(await service.call('POST', `/pacs-configs/${id}/test-connection`, {}));
      expect(answer).toMatchObject({ ok: true, message: 'Connection established' });

      const requests = commandBodies.filter((body) => body.includes(id));
      expect(requests).toHaveLength(1);
      expect(requests[0]).not.toContain(peers.orthanc.password);
      const envelope = JSON.parse(requests[0]) as {
        type: string;
        data: { auth: { method: string; sealedSecret: string; secretContextId: string } };
      };
      expect(envelope.type).toBe('dicomweb.connection-test');
      expect(envelope.data.auth).toMatchObject({ method: 'basic', secretContextId: id });
      // v2, bound to where it goes (Orthanc's URL names its port, as the destination always does).
      expect(envelope.data.auth.sealedSecret.split(':').slice(0, 3)).toEqual([
        'v2',
        expect.stringMatching(/^[0-9a-f]{8}$/) as unknown,
        Buffer.from(new URL(peers.orthanc.dicomWebUrl).origin).toString('base64'),
      ]);
    });

    it('a wrong password: failed, and the detail says the authentication was rejected', async () => {
      const wrong = `wrong-${randomBytes(6).toString('hex')}`;
      const id = await create(orthancDicomweb('ORTHANC_DW_BAD', wrong));
      const answer = await answerOf(await service.call('POST', `/pacs-configs/${id}/test-connection`));
      expect(answer).toMatchObject({ ok: false, message: 'Connection failed' });
      expect(answer.detail).toMatch(/authentication rejected \(HTTP 401\)/);
      expect(answer.detail).not.toContain(wrong);
      expect(commandBodies.join('\n')).not.toContain(wrong);
    });

    it('an unsaved configuration: established, its secret sealed to a fresh id on the broker', async () => {
      const before = commandBodies.length;
      const response = await service.call(
        'POST',
        '/pacs-configs/test-connection',
        orthancDicomweb('ORTHANC_DW', peers.orthanc.password),
      );
      expect(await answerOf(response)).toMatchObject({ ok: true, message: 'Connection established' });
      const sent = commandBodies.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0]).not.toContain(peers.orthanc.password);
      expect(sent[0]).toMatch(/"sealedSecret":"v2:/);
      // Nothing was saved.
      const list = (await (await service.call('GET', '/pacs-configs')).json()) as { total: number };
      expect(list.total).toBe(2);
    });

    it('an unsaved configuration is validated as a create body', async () => {
      const response = await service.call('POST', '/pacs-configs/test-connection', {
        ...orthancDicomweb('ORTHANC_DW', 'x'),
        url: 'ftp://example.org',
        extra: true,
      });
      const problem = await expectProblem(response, 400);
      expect(problem.errors?.map((error) => error.field)).toEqual(expect.arrayContaining(['url', 'extra']));
    });

    it('a server with the Vidar headers and no studies: established, saying it holds no studies', async () => {
      const id = await create({
        type: 'dicomweb',
        aeTitle: LOCAL_DW_PACS,
        name: 'local DICOMweb',
        url: localUrl,
        sourceAeTitle: LOCAL_DW_SOURCE,
        timeoutMs: 5_000,
      });
      const answer = await answerOf(await service.call('POST', `/pacs-configs/${id}/test-connection`, {}));
      expect(answer).toEqual({
        ok: true,
        message: 'Connection established',
        detail: 'the server answered but holds no studies',
        elapsedMs: expect.any(Number) as unknown,
      });
      expect(localHeaders.at(-1)).toMatchObject({
        vidarsourceaet: LOCAL_DW_SOURCE,
        vidarpacsaet: LOCAL_DW_PACS,
        accept: 'application/dicom+json',
      });
    });
  });

  describe('DIMSE', () => {
    it('C-ECHO to Orthanc from a local AE title (matched case-insensitively): established', async () => {
      expect((await service.call('POST', '/local-ae-titles', { aeTitle: 'PL_ECHO' })).status).toBe(201);
      const id = await create({
        type: 'dimse',
        aeTitle: peers.orthanc.aet,
        name: 'Orthanc DIMSE',
        host: peers.orthanc.host,
        port: peers.orthanc.port,
        timeoutMs: 5_000,
      });
      const answer = await answerOf(
        await service.call('POST', `/pacs-configs/${id}/test-connection`, { callingAeTitle: 'pl_echo' }),
      );
      expect(answer).toMatchObject({ ok: true, message: 'Connection established' });
    });

    it('C-ECHO to storescp with the default calling AE title: established', async () => {
      const id = await create({
        type: 'dimse',
        aeTitle: peers.storescp.aet,
        name: 'storescp',
        host: peers.storescp.host,
        port: peers.storescp.port,
        timeoutMs: 5_000,
      });
      const answer = await answerOf(await service.call('POST', `/pacs-configs/${id}/test-connection`));
      expect(answer).toMatchObject({ ok: true, message: 'Connection established' });
    });

    it('an unsaved configuration at a refused port: failed, saying the connection was refused', async () => {
      const port = await refusedPort();
      const answer = await answerOf(
        await service.call('POST', '/pacs-configs/test-connection', {
          type: 'dimse',
          aeTitle: 'NOBODY_HOME',
          name: 'refused',
          host: '127.0.0.1',
          port,
          timeoutMs: 3_000,
          callingAeTitle: 'PACSLINK',
        }),
      );
      expect(answer).toMatchObject({ ok: false, message: 'Connection failed' });
      expect(answer.detail).toBe(`connection refused by 127.0.0.1:${port} — nothing listens there`);
    });

    it('a calling AE title that is not a local AE title: 400 naming callingAeTitle', async () => {
      const id = await create({
        type: 'dimse',
        aeTitle: 'SOME_PACS',
        name: 'some PACS',
        host: '127.0.0.1',
        port: 104,
      });
      const problem = await expectFieldError(
        await service.call('POST', `/pacs-configs/${id}/test-connection`, { callingAeTitle: 'STRANGER' }),
        'callingAeTitle',
      );
      expect(problem.detail).toContain('"PACSLINK"');
      await expectFieldError(
        await service.call('POST', '/pacs-configs/test-connection', {
          type: 'dimse',
          aeTitle: 'SOME_PACS',
          name: 'some PACS',
          host: '127.0.0.1',
          port: 104,
          callingAeTitle: 'STRANGER',
        }),
        'callingAeTitle',
      );
    });
  });

  describe('each failure answers with its own reason, through the services', () => {
    let odd: Server;
    let oddUrl: string;
    let silent: NetServer;
    let silentPort: number;
    const silentSockets: Socket[] = [];
    let tokenRequests = 0;

    beforeAll(async () => {
      // Odd servers of the test's own: a login page, a REST API that is not DICOMweb, a failing
      // server, an OAuth2 token endpoint and a PACS that wants its tokens.
      odd = createServer((request, response) => {
        const path = request.url ?? '';
        if (path.startsWith('/login/studies')) {
          response.writeHead(200, { 'content-type': 'text/html' });
          response.end('<html><head><title>Sign in</title></head><body><form>password</form></body></html>');
        } else if (path.startsWith('/rest/studies')) {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{"status":"ok"}');
        } else if (path.startsWith('/broken/studies')) {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end('database offline');
        } else if (path === '/token' && request.method === 'POST') {
          tokenRequests++;
          const basic = Buffer.from('viewer:s3cret').toString('base64');
          if (request.headers.authorization !== `Basic ${basic}`) {
            response.writeHead(401, { 'content-type': 'application/json' });
            response.end('{"error":"invalid_client"}');
            return;
          }
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{"access_token":"issued-token","token_type":"Bearer","expires_in":3600}');
        } else if (path.startsWith('/oauth/studies')) {
          const ok = request.headers.authorization === 'Bearer issued-token';
          response.writeHead(ok ? 200 : 401, { 'content-type': 'application/dicom+json' });
          response.end(ok ? '[]' : '');
        } else {
          response.writeHead(404, { 'content-type': 'text/plain' });
          response.end('not here');
        }
      });
      oddUrl = `http://127.0.0.1:${await listen(odd)}`;
      // Accepts connections and never says a word.
      silent = createNetServer((socket) => silentSockets.push(socket));
      silentPort = await new Promise<number>((resolve) =>
        silent.listen(0, '127.0.0.1', () => resolve((silent.address() as AddressInfo).port)),
      );
    });

    afterAll(async () => {
      // Both keep connections open (keep-alive, a peer that never speaks): end them, then close.
      odd.closeAllConnections();
      for (const socket of silentSockets) socket.destroy();
      await new Promise<void>((resolve) => odd.close(() => resolve()));
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    async function testUnsaved(config: Record<string, unknown>): Promise<TestAnswer> {
      return answerOf(
        await service.call('POST', '/pacs-configs/test-connection', {
          aeTitle: 'ODD',
          name: 'odd server',
          timeoutMs: 1_500,
          ...config,
        }),
      );
    }

    const dicomweb = (url: string, auth: Record<string, unknown> = { method: 'none' }) => ({
      type: 'dicomweb',
      url,
      auth,
    });

    it.each([
      ['an HTML login page', '/login', /^not a DICOMweb endpoint: the answer is text\/html/],
      [
        'a REST API that is not DICOMweb',
        '/rest',
        /^not a DICOMweb endpoint: the answer is JSON but not DICOM JSON/,
      ],
      ['a failing server', '/broken', /^the server failed \(HTTP 500/],
      ['a wrong path', '/nothing-here', /^no DICOMweb service at .* \(HTTP 404\)/],
    ])('DICOMweb, %s', async (_, path, detail) => {
      const answer = await testUnsaved(dicomweb(`${oddUrl}${path}`));
      expect(answer).toMatchObject({ ok: false, message: 'Connection failed' });
      expect(answer.detail).toMatch(detail);
    });

    it('DICOMweb, a server that never answers: failed within the timeout', async () => {
      const answer = await testUnsaved(dicomweb(`http://127.0.0.1:${silentPort}/dicom-web`));
      expect(answer).toMatchObject({ ok: false, message: 'Connection failed' });
      expect(answer.detail).toMatch(/no answer within 1500 ms \(response timeout\)/);
      expect(answer.elapsedMs).toBeLessThan(1_500 + 2_000);
    });

    it('DICOMweb, a host that does not exist: failed, naming DNS', async () => {
      const answer = await testUnsaved(dicomweb('http://nonexistent.invalid/dicom-web'));
      expect(answer.detail).toMatch(/^host nonexistent\.invalid not found \(DNS/);
    });

    it('DICOMweb, OAuth2 client credentials: a token fetched and used; a rejected client named as such', async () => {
      const oauth = (clientSecret: string) => ({
        method: 'oauth2-client-credentials',
        tokenUrl: `${oddUrl}/token`,
        clientId: 'viewer',
        clientSecret,
      });
      const good = await testUnsaved(dicomweb(`${oddUrl}/oauth`, oauth('s3cret')));
      expect(good).toMatchObject({ ok: true, message: 'Connection established' });
      expect(tokenRequests).toBeGreaterThan(0);
      const bad = await testUnsaved(dicomweb(`${oddUrl}/oauth`, oauth('wrong')));
      expect(bad).toMatchObject({ ok: false, message: 'Connection failed' });
      expect(bad.detail).toMatch(/^token endpoint .* answered 401 invalid_client/);
      expect(JSON.stringify(bad)).not.toContain('wrong');
    });

    it('DIMSE, a listener that never speaks: failed with the association timeout', async () => {
      const answer = await testUnsaved({ type: 'dimse', host: '127.0.0.1', port: silentPort });
      expect(answer).toMatchObject({ ok: false, message: 'Connection failed' });
      expect(answer.detail).toMatch(/^no answer within 1500 ms/);
    });

    it('DIMSE, a host that does not exist: failed, naming DNS', async () => {
      const answer = await testUnsaved({ type: 'dimse', host: 'nonexistent.invalid', port: 104 });
      expect(answer.detail).toBe('host nonexistent.invalid not found (DNS)');
    });

    it("DIMSE, Orthanc's HTTP port: failed, saying it answered like an HTTP server", async () => {
      const port = Number(new URL(peers.orthanc.httpUrl).port);
      const answer = await testUnsaved({ type: 'dimse', host: '127.0.0.1', port });
      expect(answer.detail).toMatch(/answered like an HTTP server, not a DICOM peer/);
    });
  });

  describe('association rejections, TLS and a second Orthanc, through the services', () => {
    let workDir: string;
    const cleanups: Array<() => Promise<unknown>> = [];

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), 'pacslink-conntest-e2e-'));
    });

    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
      if (workDir) await rm(workDir, { recursive: true, force: true });
    });

    async function testUnsaved(config: Record<string, unknown>): Promise<TestAnswer> {
      return answerOf(
        await service.call('POST', '/pacs-configs/test-connection', {
          name: 'a peer of the test',
          timeoutMs: 5_000,
          ...config,
        }),
      );
    }

    /** An https server answering `[]`, with a certificate made by openssl in the temp dir. */
    async function httpsServer(name: string): Promise<string> {
      const keyFile = join(workDir, `${name}.key`);
      const certFile = join(workDir, `${name}.pem`);
      await run('openssl', [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1'],
        ...['-keyout', keyFile, '-out', certFile],
      ]);
      const server: HttpsServer = createHttpsServer(
        { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') },
        (_request, response) => {
          response.writeHead(200, { 'content-type': 'application/dicom+json' });
          response.end('[]');
        },
      );
      cleanups.push(async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      return `https://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
    }

    it('DIMSE, dcmqrscp that does not know the called AE title: rejected, naming result, source and reason', async () => {
      const scp = await startDcmqrscp(join(workDir, 'dcmqrscp'), 'STRICT');
      cleanups.push(() => scp.stop());

      const rejected = await testUnsaved({
        type: 'dimse',
        aeTitle: 'WRONG',
        host: '127.0.0.1',
        port: scp.port,
      });
      expect(rejected).toMatchObject({ ok: false, message: 'Connection failed' });
      expect(rejected.detail).toBe(
        'association rejected permanently by the called AE (service user): called AE title not recognized — the PACS does not answer to AE title WRONG; check its AE title',
      );
      // The same peer under its own title answers.
      const accepted = await testUnsaved({
        type: 'dimse',
        aeTitle: 'STRICT',
        host: '127.0.0.1',
        port: scp.port,
      });
      expect(accepted).toMatchObject({ ok: true, message: 'Connection established' });
    });

    it('DIMSE, storescp --refuse: rejected, with no reason given', async () => {
      const scp = await startDcmtk(
        'storescp',
        (port) => ['--refuse', '-aet', 'REFUSER', String(port)],
        'REFUSER',
      );
      cleanups.push(() => scp.stop());
      const id = await create({
        type: 'dimse',
        aeTitle: 'REFUSER',
        name: 'storescp --refuse',
        host: '127.0.0.1',
        port: scp.port,
        timeoutMs: 5_000,
      });
      const answer = await answerOf(await service.call('POST', `/pacs-configs/${id}/test-connection`, {}));
      expect(answer).toMatchObject({ ok: false, message: 'Connection failed' });
      expect(answer.detail).toBe(
        'association rejected permanently by the called AE (service user): no reason given',
      );
    });

    it('DICOMweb, an https server with a self-signed certificate: failed, naming TLS', async () => {
      const url = await httpsServer('self-signed');
      const answer = await testUnsaved({
        type: 'dicomweb',
        aeTitle: 'TLS_PACS',
        url,
        auth: { method: 'none' },
      });
      expect(answer).toMatchObject({ ok: false, message: 'Connection failed' });
      expect(answer.detail).toBe(
        `TLS: self-signed certificate presented by ${new URL(url).host} — not trusted; add it to the trusted certificates`,
      );
    });

    it('DICOMweb, https:// to a plain-HTTP port: the TLS handshake fails', async () => {
      const hostPort = new URL(localUrl).host;
      const answer = await testUnsaved({
        type: 'dicomweb',
        aeTitle: 'PLAIN_HTTP',
        url: `https://${hostPort}/dicom-web`,
        auth: { method: 'none' },
      });
      expect(answer).toMatchObject({ ok: false, message: 'Connection failed' });
      expect(answer.detail).toBe(
        `TLS handshake with ${hostPort} failed (wrong version number) — is it a plain-HTTP port? then use http://`,
      );
    });

    describe('a second Orthanc of its own, with HTTP Basic off and no studies', () => {
      let second: PeerEndpoints;
      let secondDir: string;
      let secondEnv: NodeJS.ProcessEnv;

      beforeAll(async () => {
        secondDir = join(workDir, 'second-orthanc');
        const [dicom, http, storescp, wlm] = await freePorts(4);
        secondEnv = {
          ...process.env,
          PEERS_SKIP_INSTALL: '1',
          ORTHANC_AET: 'ORTHANC2',
          ORTHANC_DICOM_PORT: String(dicom),
          ORTHANC_HTTP_PORT: String(http),
          ORTHANC_AUTH: '0',
          STORESCP_PORT: String(storescp),
          WLM_PORT: String(wlm),
        };
        // startPeers copies what it starts into process.env: the first peers' settings stay there.
        const saved = { ...process.env };
        try {
          second = await startPeers({ dataDir: secondDir, env: secondEnv, timeoutMs: 100_000 });
        } finally {
          for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
          Object.assign(process.env, saved);
        }
      }, 120_000);

      afterAll(async () => {
        if (secondDir) await stopPeers({ dataDir: secondDir, env: secondEnv });
      }, 60_000);

      it('DICOMweb with auth none: established, saying it holds no studies', async () => {
        expect(second.orthanc.dicomWebUrl).not.toBe(peers.orthanc.dicomWebUrl);
        const answer = await testUnsaved({
          type: 'dicomweb',
          aeTitle: second.orthanc.aet,
          url: second.orthanc.dicomWebUrl,
          auth: { method: 'none' },
        });
        expect(answer).toEqual({
          ok: true,
          message: 'Connection established',
          detail: 'the server answered but holds no studies',
          elapsedMs: expect.any(Number) as unknown,
        });
      });

      it('DICOMweb with auth none to the first Orthanc, whose HTTP Basic is on: rejected, saying none is configured', async () => {
        const answer = await testUnsaved({
          type: 'dicomweb',
          aeTitle: 'ORTHANC_NOAUTH',
          url: peers.orthanc.dicomWebUrl,
          auth: { method: 'none' },
        });
        expect(answer).toMatchObject({ ok: false, message: 'Connection failed' });
        expect(answer.detail).toBe(
          'authentication rejected (HTTP 401) — the server requires credentials (it asks for Basic) and none are configured',
        );
      });

      it('C-ECHO to its DICOM port: established', async () => {
        const answer = await testUnsaved({
          type: 'dimse',
          aeTitle: second.orthanc.aet,
          host: second.orthanc.host,
          port: second.orthanc.port,
        });
        expect(answer).toMatchObject({ ok: true, message: 'Connection established' });
      });
    });
  });

  it('an unknown id: 404; a malformed id or an unknown field: 400', async () => {
    const unknown = await expectProblem(
      await service.call('POST', '/pacs-configs/00000000-0000-4000-8000-000000000000/test-connection', {}),
      404,
    );
    expect(unknown.detail).toContain('00000000-0000-4000-8000-000000000000');
    await expectProblem(await service.call('POST', '/pacs-configs/not-a-uuid/test-connection', {}), 400);
    const id = await create({ type: 'dimse', aeTitle: 'FIELDS', name: 'f', host: '127.0.0.1', port: 104 });
    await expectFieldError(
      await service.call('POST', `/pacs-configs/${id}/test-connection`, { bogus: 1 }),
      'bogus',
    );
  });

  it('is documented in OpenAPI', async () => {
    const document = (await service.apiDocument()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    for (const path of [
      '/api/v1/pacs-configs/{id}/test-connection',
      '/api/v1/pacs-configs/test-connection',
    ]) {
      expect(Object.keys(document.paths[path].post.responses)).toEqual(
        expect.arrayContaining(['200', '400', '503']),
      );
    }
  });
});

describe('connection test with no worker running', () => {
  let service: RunningConfigService;

  beforeAll(async () => {
    service = await startConfigService();
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('answers 503 naming the worker, within the timeout bound', async () => {
    const response = await service.call('POST', '/pacs-configs', {
      type: 'dimse',
      aeTitle: 'LONELY',
      name: 'nobody tests me',
      host: '127.0.0.1',
      port: 104,
      timeoutMs: 1_000,
    });
    const { id } = (await response.json()) as { id: string };
    const started = Date.now();
    const problem = await expectProblem(
      await service.call('POST', `/pacs-configs/${id}/test-connection`, {}),
      503,
    );
    const elapsed = Date.now() - started;
    expect(problem.detail).toBe('no dimse-worker answered within 6000 ms — is it running?');
    expect(elapsed).toBeGreaterThanOrEqual(5_900);
    expect(elapsed).toBeLessThan(8_000);

    const dicomweb = await service.call('POST', '/pacs-configs/test-connection', {
      type: 'dicomweb',
      aeTitle: 'LONELY_DW',
      name: 'nobody tests me either',
      url: 'http://127.0.0.1:9/dicom-web',
      timeoutMs: 1_000,
    });
    expect((await expectProblem(dicomweb, 503)).detail).toBe(
      'no dicomweb-worker answered within 6000 ms — is it running?',
    );
  });
});
