import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEgressGuard } from '@pacslink/testing';
import { DicomwebClient, DicomwebErrorCode, type DicomwebEndpoint, type StowInstance } from '../src';
import { closeServer, listenLocal } from './local-servers';

// How timeoutMs bounds a streamed STOW-RS upload, against local HTTP servers that read slowly, stop
// reading, or never answer (behaviour no real PACS shows on demand). undici restarts its headers
// timeout whenever the socket pushes back and once the body has gone, so a long upload is not cut
// short while a stalled one is.
jest.setTimeout(60_000);

const TIMEOUT_MS = 1_000;
const UID = '1.2.826.0.1.3680043.8.498.1';
const ANSWER = JSON.stringify({
  '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [UID] } }] },
});

let workDir: string;
let file: StowInstance;
const client = new DicomwebClient({ egress: testEgressGuard() });
const servers: Server[] = [];

async function serve(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<DicomwebEndpoint> {
  const server = createServer(handler);
  servers.push(server);
  const port = await listenLocal(server);
  return {
    url: `http://127.0.0.1:${port}/dicom-web`,
    auth: { method: 'none' },
    pacsAeTitle: 'LOCAL',
    timeoutMs: TIMEOUT_MS,
  };
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-stow-timeouts-'));
  const path = join(workDir, 'instance.dcm');
  // Random bytes: the servers here never parse them; 16 MB outlasts the loopback socket buffers.
  await writeFile(path, randomBytes(16 * 1024 * 1024));
  file = { path, sopInstanceUid: UID, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sizeBytes: 16 * 1024 * 1024 };
});

afterAll(async () => {
  await client.close();
  await Promise.all(servers.map((server) => closeServer(server)));
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

it('an upload that takes several timeouts in all, but never stalls for one, succeeds', async () => {
  let received = 0;
  const started = Date.now();
  const endpoint = await serve((request, response) => {
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      request.pause();
      setTimeout(() => request.resume(), 10);
    });
    request.on('end', () =>
      response.writeHead(200, { 'content-type': 'application/dicom+json' }).end(ANSWER),
    );
  });
  const outcomes = await client.stow(endpoint, [file], { multipart: true });
  expect(outcomes).toEqual([{ sopInstanceUid: UID, status: 'success' }]);
  expect(received).toBeGreaterThan(file.sizeBytes);
  expect(Date.now() - started).toBeGreaterThan(2 * TIMEOUT_MS);
});

it('a server that stops reading the body: RESPONSE_TIMEOUT, retryable', async () => {
  const endpoint = await serve((request) => {
    request.once('data', () => request.pause());
  });
  const error = await client.stow(endpoint, [file], { multipart: true }).catch((caught: unknown) => caught);
  expect(error).toMatchObject({
    code: DicomwebErrorCode.ResponseTimeout,
    message: `connected to ${new URL(endpoint.url).host}, but no answer within ${TIMEOUT_MS} ms (response timeout)`,
    disposition: { retryable: true },
  });
});

it('a server that takes the whole body and never answers: RESPONSE_TIMEOUT after timeoutMs', async () => {
  let received = 0;
  const endpoint = await serve((request) => {
    request.on('data', (chunk: Buffer) => (received += chunk.length));
  });
  const error = await client.stow(endpoint, [file], { multipart: false }).catch((caught: unknown) => caught);
  expect(received).toBe(file.sizeBytes);
  expect(error).toMatchObject({
    code: DicomwebErrorCode.ResponseTimeout,
    message: `connected to ${new URL(endpoint.url).host}, but no answer within ${TIMEOUT_MS} ms (response timeout)`,
    disposition: { retryable: true },
  });
});

it('a server that trickles its answer, never silent for a whole timeout: RESPONSE_TIMEOUT after timeoutMs', async () => {
  const endpoint = await serve((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/dicom+json' });
      const answer = Buffer.from(ANSWER);
      let sent = 0;
      const timer = setInterval(() => {
        if (response.destroyed || sent >= answer.length) {
          clearInterval(timer);
          if (!response.destroyed) response.end();
          return;
        }
        response.write(answer.subarray(sent, ++sent));
      }, TIMEOUT_MS / 4);
      response.on('close', () => clearInterval(timer));
    });
  });
  const started = performance.now();
  const error = await client.stow(endpoint, [file], { multipart: true }).catch((caught: unknown) => caught);
  expect(error).toMatchObject({
    code: DicomwebErrorCode.ResponseTimeout,
    message: `${new URL(endpoint.url).host} did not finish sending its answer within ${TIMEOUT_MS} ms (response timeout): it trickles it`,
    disposition: { retryable: true },
  });
  // Its answer would take 30 s and more at that pace.
  expect(performance.now() - started).toBeLessThan(5 * TIMEOUT_MS);
});
