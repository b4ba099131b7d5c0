import { createCipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  ConnectionTestRequests,
  ConsumerQueues,
  ExportBatchCommands,
  ExportBatchReports,
  Exchanges,
  QueryRequests,
  type ConnectionTestAuthData,
  type ConnectionTestResult,
  type DicomwebConnectionTestData,
  type DicomwebExportBatchData,
  type DicomwebQueryData,
  type ExportBatchFinishedData,
  DimseCallerRequests,
  MppsCompletionRequests,
  StorageScpReports,
} from '@pacslink/contracts';
import {
  ConfirmedPublisher,
  MessageConsumer,
  MessagingModule,
  RpcClient,
  RpcRemoteError,
  createEnvelope,
} from '@pacslink/messaging';
import { loadEnv, runService } from '@pacslink/platform';
import { SecretCipher } from '@pacslink/secrets';
import { createTestVhost, eventually, waitUntilReady, baseUrlOf, type TestVhost } from '@pacslink/testing';
import { AppModule } from '../src/app.module';
import { DICOMWEB_WORKER, DicomwebWorkerEnv } from '../src/config';

// A sealed secret taken from a command (on the broker, in a log, in the outbox) and replayed in a
// command with another URL: the dicomweb-worker, through the real broker, refuses it before
// anything is sent. The test plays config-service: it seals, asks, and answers the export claims.
jest.setTimeout(60_000);

interface Seen {
  path: string;
  authorization?: string;
}

/** An HTTP server of the test's own that records every request and answers like DICOMweb. */
async function recordingServer(
  check: (seen: Seen) => boolean,
): Promise<{ origin: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    const entry = { path: request.url ?? '', authorization: request.headers.authorization };
    seen.push(entry);
    request.resume();
    if (!check(entry)) {
      response.writeHead(401, { 'content-type': 'text/plain' });
      response.end('unauthorized');
    } else if (entry.path === '/token') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"access_token":"issued-token","token_type":"Bearer","expires_in":3600}');
    } else {
      response.writeHead(200, { 'content-type': 'application/dicom+json' });
      response.end('[]');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const basicHeader = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('dicomweb-worker: a sealed credential is used only for the server it was entered for', () => {
  const key = randomBytes(32);
  const cipher = new SecretCipher(key);
  const rowId = randomUUID();
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const clientSecret = `cs-${randomBytes(6).toString('hex')}`;
  let vhost: TestVhost;
  let worker: INestApplication;
  let client: TestingModule;
  let rpc: RpcClient;
  const finished: ExportBatchFinishedData[] = [];
  let pacs: Awaited<ReturnType<typeof recordingServer>>;
  let elsewhere: Awaited<ReturnType<typeof recordingServer>>;

  beforeAll(async () => {
    pacs = await recordingServer(
      (seen) =>
        seen.authorization === basicHeader('viewer', password) ||
        seen.authorization === basicHeader('pacslink', clientSecret) ||
        seen.authorization === 'Bearer issued-token',
    );
    // Whoever runs it would gladly take any credential.
    elsewhere = await recordingServer(() => true);

    vhost = await createTestVhost();
    const env = loadEnv(DicomwebWorkerEnv, {
      AMQP_URL: vhost.url,
      LOG_LEVEL: 'silent',
      SECRETS_KEY: key.toString('base64'),
    });
    worker = await runService(AppModule.forRoot(env), { service: DICOMWEB_WORKER, port: 0 });
    expect((await waitUntilReady(baseUrlOf(worker))).status).toBe(200);

    client = await Test.createTestingModule({
      imports: [
        MessagingModule.forRoot({
          url: vhost.url,
          connectionName: 'test-as-config-service',
          consumerQueues: [ConsumerQueues.ConfigServiceReports],
        }),
      ],
    }).compile();
    const consumer = client.get(MessageConsumer);
    const queue = ConsumerQueues.ConfigServiceReports;
    consumer.answer(queue, ExportBatchReports.Claim, () => Promise.resolve({ go: true }));
    // Playing config-service means answering everything routed to its queue (the consumer checks).
    consumer.answer(queue, DimseCallerRequests.List, () => Promise.resolve({ callers: [] }));
    consumer.answer(queue, MppsCompletionRequests.Get, () =>
      Promise.resolve({ target: null, performedSeries: [] }),
    );
    consumer.on(queue, StorageScpReports.Received, () => Promise.resolve());
    consumer.on(queue, StorageScpReports.Refused, () => Promise.resolve());
    consumer.on(queue, ExportBatchReports.Progress, () => Promise.resolve());
    consumer.on(queue, ExportBatchReports.Finished, (data) => {
      finished.push(data);
      return Promise.resolve();
    });
    await client.init();
    await consumer.attached();
    rpc = client.get(RpcClient);
  });

  afterAll(async () => {
    await client?.close();
    await worker?.close();
    for (const { server } of [pacs, elsewhere]) {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
    }
    await vhost?.drop();
  });

  const sealedPassword = (destination: string) =>
    cipher.encrypt(password, { table: 'pacs_config', rowId, field: 'password', destination });
  const basicAuth = (sealedSecret: string): ConnectionTestAuthData => ({
    method: 'basic',
    username: 'viewer',
    sealedSecret,
    secretContextId: rowId,
  });
  const target = (url: string, auth: ConnectionTestAuthData) => ({
    url,
    pacsAeTitle: 'PACS',
    auth,
    timeoutMs: 5_000,
  });
  const connectionTest = (url: string, auth: ConnectionTestAuthData) =>
    rpc.request<DicomwebConnectionTestData, ConnectionTestResult>(
      ConnectionTestRequests.Dicomweb,
      target(url, auth),
      10_000,
    );
  const refusal = (from: string, to: string) =>
    `the credential was entered for ${from}; this request goes to ${to}: enter it again`;

  it('a password sealed for its server is used there, also under another path of the same origin', async () => {
    const auth = basicAuth(sealedPassword(pacs.origin));
    expect(await connectionTest(`${pacs.origin}/dicom-web`, auth)).toMatchObject({ ok: true });
    expect(await connectionTest(`${pacs.origin}/other/dicom-web`, auth)).toMatchObject({ ok: true });
    expect(pacs.seen.map((seen) => [seen.path.split('?')[0], seen.authorization])).toEqual([
      ['/dicom-web/studies', basicHeader('viewer', password)],
      ['/other/dicom-web/studies', basicHeader('viewer', password)],
    ]);
  });

  it('the same sealed password replayed in a connection test for another server: refused, nothing sent', async () => {
    const answer = await connectionTest(
      `${elsewhere.origin}/dicom-web`,
      basicAuth(sealedPassword(pacs.origin)),
    );
    expect(answer).toMatchObject({
      ok: false,
      message: 'Connection failed',
      detail: `the credentials could not be used: ${refusal(pacs.origin, elsewhere.origin)}`,
    });
    expect(elsewhere.seen).toEqual([]);
  });

  it('replayed in a query for another server: refused, nothing sent', async () => {
    const query: DicomwebQueryData = {
      ...target(`${elsewhere.origin}/dicom-web`, basicAuth(sealedPassword(pacs.origin))),
      level: 'studies' as const,
      filters: {},
      includefield: [],
      limit: 1,
      offset: 0,
    };
    await expect(rpc.request(QueryRequests.Dicomweb, query, 10_000)).rejects.toEqual(
      new RpcRemoteError(`the credentials could not be used: ${refusal(pacs.origin, elsewhere.origin)}`),
    );
    expect(elsewhere.seen).toEqual([]);
  });

  it('replayed in an export batch for another server: the batch fails with the reason, nothing sent', async () => {
    const batch: DicomwebExportBatchData = {
      transferId: randomUUID(),
      batchId: randomUUID(),
      attempt: 1,
      instances: [
        {
          sopInstanceUid: '1.2.826.0.1.3680043.10.1.1',
          sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
          transferSyntaxUid: '1.2.840.10008.1.2.1',
          path: 'never/read.dcm',
          sizeBytes: 1,
        },
      ],
      target: target(`${elsewhere.origin}/dicom-web`, basicAuth(sealedPassword(pacs.origin))),
      multipart: true,
      studyInstanceUid: '1.2.826.0.1.3680043.10.1',
    };
    await client
      .get(ConfirmedPublisher)
      .publish(Exchanges.Commands, createEnvelope(ExportBatchCommands.Dicomweb, batch));
    const report = await eventually("the batch's finished report", () =>
      finished.find((data) => data.batchId === batch.batchId),
    );
    // Permanent: the same refusal whatever replica or attempt, so the transfer fails at once.
    expect(report.failure).toMatchObject({
      transient: false,
      reason: `the stored credential cannot be used: ${refusal(pacs.origin, elsewhere.origin)}`,
    });
    expect(report.outcomes).toEqual([]);
    expect(elsewhere.seen).toEqual([]);
  });

  it('a bearer token replayed for another server: refused, nothing sent', async () => {
    const sealedSecret = cipher.encrypt('tok-en', {
      table: 'pacs_config',
      rowId,
      field: 'token',
      destination: pacs.origin,
    });
    const answer = await connectionTest(`${elsewhere.origin}/dicom-web`, {
      method: 'bearer',
      sealedSecret,
      secretContextId: rowId,
    });
    expect(answer.detail).toBe(
      `the credentials could not be used: ${refusal(pacs.origin, elsewhere.origin)}`,
    );
    expect(elsewhere.seen).toEqual([]);
  });

  it('an OAuth2 client secret works with its token endpoint and server, and with no other of either', async () => {
    const destination = `${pacs.origin} with tokens from ${pacs.origin}`;
    const oauth = (tokenUrl: string): ConnectionTestAuthData => ({
      method: 'oauth2-client-credentials',
      tokenUrl,
      clientId: 'pacslink',
      sealedSecret: cipher.encrypt(clientSecret, {
        table: 'pacs_config',
        rowId,
        field: 'clientSecret',
        destination,
      }),
      secretContextId: rowId,
    });
    const before = pacs.seen.length;
    expect(await connectionTest(`${pacs.origin}/dicom-web`, oauth(`${pacs.origin}/token`))).toMatchObject({
      ok: true,
    });
    expect(pacs.seen.slice(before).map((seen) => seen.path.split('?')[0])).toEqual([
      '/token',
      '/dicom-web/studies',
    ]);

    // The secret to another token endpoint; the tokens it buys to another server.
    const toEvilIdp = await connectionTest(`${pacs.origin}/dicom-web`, oauth(`${elsewhere.origin}/token`));
    expect(toEvilIdp.detail).toBe(
      `the credentials could not be used: ${refusal(destination, `${pacs.origin} with tokens from ${elsewhere.origin}`)}`,
    );
    const toEvilPacs = await connectionTest(`${elsewhere.origin}/dicom-web`, oauth(`${pacs.origin}/token`));
    expect(toEvilPacs.detail).toBe(
      `the credentials could not be used: ${refusal(destination, `${elsewhere.origin} with tokens from ${pacs.origin}`)}`,
    );
    expect(pacs.seen.length).toBe(before + 2);
    expect(elsewhere.seen).toEqual([]);
  });

  it('a sealed password whose destination was rewritten to the other server: refused, nothing sent', async () => {
    const parts = sealedPassword(pacs.origin).split(':');
    parts[2] = Buffer.from(elsewhere.origin).toString('base64');
    const answer = await connectionTest(`${elsewhere.origin}/dicom-web`, basicAuth(parts.join(':')));
    expect(answer.detail).toBe(
      `the credentials could not be used: the secret does not belong to pacs_config.password of ${rowId} for ${elsewhere.origin}`,
    );
    expect(elsewhere.seen).toEqual([]);
  });

  it('a v1 secret, bound to no destination (as sent before this version): refused, nothing sent', async () => {
    // Encoded here as the previous version did: AES-256-GCM, AAD table\0rowId\0field.
    const iv = randomBytes(12);
    const gcm = createCipheriv('aes-256-gcm', key, iv);
    gcm.setAAD(Buffer.from(`pacs_config\u0000${rowId}\u0000password`));
    const ciphertext = Buffer.concat([gcm.update(password, 'utf8'), gcm.final()]);
    const keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
    const v1 = ['v1', keyId, iv, gcm.getAuthTag(), ciphertext]
      .map((part) => (Buffer.isBuffer(part) ? part.toString('base64') : part))
      .join(':');
    const answer = await connectionTest(`${elsewhere.origin}/dicom-web`, basicAuth(v1));
    expect(answer.detail).toMatch(/^the credentials could not be used: the secret is in format v1/);
    expect(elsewhere.seen).toEqual([]);
  });
});
