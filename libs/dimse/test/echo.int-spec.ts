import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  startPeers,
  testEgressGuard,
  type PeerEndpoints,
  startDcmqrscp,
  startDcmtk,
  startSilentListener,
  type DcmtkPeer,
} from '@pacslink/testing';
import { DimseError, DimseErrorCode, echo, type DimseConnectionOptions } from '../src';

// C-ECHO against real peers (Orthanc and DCMTK storescp from scripts/test-peers.sh, DCMTK tools
// started here) and against sockets that fail in each way a connection test must name.
jest.setTimeout(60_000);

const TIMEOUTS = {
  connectTimeoutMs: 5_000,
  associationTimeoutMs: 5_000,
  pduTimeoutMs: 5_000,
  egress: testEgressGuard(),
};

let peers: PeerEndpoints;
let workDir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-dimse-echo-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function options(overrides: Partial<DimseConnectionOptions>): DimseConnectionOptions {
  return {
    host: '127.0.0.1',
    port: 104,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: 'ANY',
    ...TIMEOUTS,
    ...overrides,
  };
}

async function echoError(input: DimseConnectionOptions): Promise<DimseError> {
  const error = await echo(input).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError, got ${String(error)}`);
  return error;
}

describe('echo succeeds', () => {
  it('against Orthanc', async () => {
    const { orthanc } = peers;
    const result = await echo(
      options({ host: orthanc.host, port: orthanc.port, calledAeTitle: orthanc.aet }),
    );
    expect(result.ok).toBe(true);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(result.elapsedMs).toBeLessThan(TIMEOUTS.pduTimeoutMs);
  });

  it('against DCMTK storescp', async () => {
    const { storescp } = peers;
    const result = await echo(
      options({ host: storescp.host, port: storescp.port, calledAeTitle: storescp.aet }),
    );
    expect(result).toEqual({ ok: true, elapsedMs: expect.any(Number) as number });
  });

  it('a few times in parallel, each on its own association', async () => {
    const { orthanc } = peers;
    const input = options({ host: orthanc.host, port: orthanc.port, calledAeTitle: orthanc.aet });
    const results = await Promise.all([echo(input), echo(input), echo(input)]);
    expect(results.every((result) => result.ok)).toBe(true);
  });
});

describe('echo fails with a reason a person can act on', () => {
  it('connection refused: a port nobody listens on', async () => {
    const port = await freePort();
    const error = await echoError(options({ port }));
    expect(error.code).toBe(DimseErrorCode.CONNECTION_REFUSED);
    expect(error.message).toBe(`connection refused by 127.0.0.1:${port} — nothing listens there`);
    expect(error.details).toMatchObject({ phase: 'connect', socketErrorCode: 'ECONNREFUSED' });
  });

  it('host not found', async () => {
    const error = await echoError(options({ host: 'nonexistent.invalid' }));
    expect(error.code).toBe(DimseErrorCode.HOST_NOT_FOUND);
    expect(error.message).toMatch(/^host nonexistent\.invalid (not found \(DNS\)|could not be resolved)/);
  });

  it('timeout: a listener that accepts and never speaks, within the association bound', async () => {
    const silent = await startSilentListener();
    cleanups.push(() => silent.close());
    const associationTimeoutMs = 1_500;
    const started = Date.now();
    const error = await echoError(options({ port: silent.port, associationTimeoutMs }));
    const elapsed = Date.now() - started;

    expect(error.code).toBe(DimseErrorCode.TIMEOUT);
    expect(error.message).toMatch(/^no answer within 1500 ms \(association\)/);
    expect(error.details).toMatchObject({ phase: 'association', timeoutMs: associationTimeoutMs });
    expect(elapsed).toBeGreaterThanOrEqual(associationTimeoutMs - 50);
    expect(elapsed).toBeLessThan(associationTimeoutMs + 1_000);
  });

  it('association rejected: dcmqrscp does not know the called AE title', async () => {
    const dir = join(workDir, 'qr-reject');
    const scp: DcmtkPeer = await startDcmqrscp(dir, 'STRICT');
    cleanups.push(() => scp.stop());

    const error = await echoError(options({ port: scp.port, calledAeTitle: 'WRONG' }));
    expect(error.code).toBe(DimseErrorCode.ASSOCIATION_REJECTED);
    expect(error.message).toContain(
      'association rejected permanently by the called AE (service user): called AE title not recognized',
    );
    expect(error.message).toContain('WRONG');
    expect(error.details.reject).toEqual({ result: 1, source: 1, reason: 7 });

    // the same peer under its own title answers
    await expect(echo(options({ port: scp.port, calledAeTitle: 'STRICT' }))).resolves.toMatchObject({
      ok: true,
    });
  });

  it('association rejected: storescp --refuse gives no reason', async () => {
    const scp = await startDcmtk(
      'storescp',
      (port) => ['--refuse', '-aet', 'REFUSER', String(port)],
      'REFUSER',
    );
    cleanups.push(() => scp.stop());
    const error = await echoError(options({ port: scp.port, calledAeTitle: 'REFUSER' }));
    expect(error.code).toBe(DimseErrorCode.ASSOCIATION_REJECTED);
    expect(error.message).toBe(
      'association rejected permanently by the called AE (service user): no reason given',
    );
  });

  it('presentation context rejected: a storescp whose profile has no Verification (trap 4: no silent success)', async () => {
    const config = join(workDir, 'no-verification.cfg');
    await writeFile(
      config,
      [
        '[[TransferSyntaxes]]',
        '[Uncompressed]',
        'TransferSyntax1 = LocalEndianExplicit',
        'TransferSyntax2 = LittleEndianImplicit',
        '[[PresentationContexts]]',
        '[StoreOnly]',
        'PresentationContext1 = CTImageStorage\\Uncompressed',
        '[[Profiles]]',
        '[NoVerification]',
        'PresentationContexts = StoreOnly',
        '',
      ].join('\n'),
    );
    const scp = await startDcmtk(
      'storescp',
      (port) => ['-xf', config, 'NoVerification', '-aet', 'NOECHO', String(port)],
      'NOECHO',
    );
    cleanups.push(() => scp.stop());

    const error = await echoError(options({ port: scp.port, calledAeTitle: 'NOECHO' }));
    expect(error.code).toBe(DimseErrorCode.PRESENTATION_CONTEXT_REJECTED);
    expect(error.message).toBe(
      'the PACS does not accept Verification (presentation context rejected: abstract syntax not supported)',
    );
  });

  it('protocol error: an HTTP port (Orthanc REST) instead of the DICOM port', async () => {
    const http = new URL(peers.orthanc.httpUrl);
    const error = await echoError(options({ host: http.hostname, port: Number(http.port) }));
    expect(error.code).toBe(DimseErrorCode.PROTOCOL_ERROR);
    expect(error.message).toContain('answered like an HTTP server');
  });

  it('invalid options are refused before anything is sent', async () => {
    const error = await echoError(options({ callingAeTitle: 'A_CALLING_AE_TITLE_TOO_LONG' }));
    expect(error.code).toBe(DimseErrorCode.INVALID_REQUEST);
    expect(error.message).toMatch(/^callingAeTitle must be at most 16 characters/);
  });
});
