import type { LookupAddress } from 'node:dns';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EgressGuard, EgressPolicy, parseCidrList, type Resolver } from '@pacslink/egress';
import { generateStudy, startPeers, testEgressGuard, type PeerEndpoints } from '@pacslink/testing';
import { DimseError, DimseErrorCode, echo, store, type DimseConnectionOptions } from '../src';
import { storeInstanceOf } from './support/store-fixtures';

// The egress policy at connect time against the real DCMTK storescp on 127.0.0.1: nothing leaves
// loopback. Link-local and metadata peers are in src/egress.spec.ts (no socket at all).
jest.setTimeout(60_000);

let peers: PeerEndpoints;
let workDir: string;

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-dimse-egress-'));
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function options(
  egress: EgressGuard,
  overrides: Partial<DimseConnectionOptions> = {},
): DimseConnectionOptions {
  return {
    host: peers.storescp.host,
    port: peers.storescp.port,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: peers.storescp.aet,
    connectTimeoutMs: 5_000,
    associationTimeoutMs: 5_000,
    pduTimeoutMs: 10_000,
    egress,
    ...overrides,
  };
}

function guard(allow: string, resolver?: Resolver): EgressGuard {
  return new EgressGuard(new EgressPolicy(parseCidrList(allow), []), { resolver });
}

async function failure(work: Promise<unknown>): Promise<DimseError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError, got ${String(error)}`);
  return error;
}

function portOf(url: string | undefined, fallback: number): number {
  return url === undefined ? fallback : Number(new URL(url).port || fallback);
}

describe('egress: DIMSE connects only where a PACS may be', () => {
  it('allowed: C-ECHO to storescp on 127.0.0.1 under 127.0.0.0/8', async () => {
    await expect(echo(options(guard('127.0.0.0/8')))).resolves.toMatchObject({ ok: true });
  });

  it('refuses a loopback address outside EGRESS_ALLOW_CIDRS (127.0.0.2/32 allowed, 127.0.0.1 asked)', async () => {
    const { host, port } = peers.storescp;
    const error = await failure(echo(options(guard('127.0.0.2/32'))));
    expect(error).toMatchObject({
      code: DimseErrorCode.EGRESS_REFUSED,
      message: `${host}:${port} (${host}) is not an allowed PACS address (EGRESS_ALLOW_CIDRS)`,
    });
  });

  it("refuses pacslink's own broker and database although 127.0.0.0/8 is allowed, at any loopback address", async () => {
    const broker = portOf(process.env.AMQP_URL, 5672);
    const database = portOf(process.env.DATABASE_URL, 5432);
    const egress = testEgressGuard();
    expect((await failure(echo(options(egress, { host: '127.0.0.1', port: broker })))).message).toBe(
      `127.0.0.1:${broker} (127.0.0.1) is pacslink's own broker (AMQP_URL): never allowed as a PACS`,
    );
    expect((await failure(echo(options(egress, { host: '127.0.0.2', port: broker })))).message).toBe(
      `127.0.0.2:${broker} (127.0.0.2) is pacslink's own broker (AMQP_URL): never allowed as a PACS`,
    );
    const instances = [
      storeInstanceOf(
        (await generateStudy(workDir, { series: 1, instancesPerSeries: 1 })).series[0].instances[0],
      ),
    ];
    const toDatabase = await failure(
      store(options(egress, { host: 'localhost', port: database }), instances),
    );
    expect(toDatabase.code).toBe(DimseErrorCode.EGRESS_REFUSED);
    expect(toDatabase.message).toMatch(
      new RegExp(
        `^localhost:${database} \\((127\\.0\\.0\\.1|::1)\\) is pacslink's own database \\(DATABASE_URL\\): never allowed as a PACS$`,
      ),
    );
  });

  it('DNS rebinding: C-STORE to a name that resolves to storescp, then to a forbidden address, is refused at the second connect', async () => {
    const answers: LookupAddress[][] = [
      [{ address: peers.storescp.host, family: 4 }],
      [{ address: '169.254.169.254', family: 4 }],
    ];
    const asked: string[] = [];
    const resolver: Resolver = (hostname) => {
      asked.push(hostname);
      return Promise.resolve(answers.length > 1 ? (answers.shift() ?? []) : answers[0]);
    };
    const egress = guard('127.0.0.0/8', resolver);
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 1 });
    const instances = study.series[0].instances.map((instance) => storeInstanceOf(instance));
    const target = options(egress, { host: 'rebind.test' });
    await expect(store(target, instances)).resolves.toMatchObject([{ status: 'success' }]);
    const error = await failure(store(target, instances));
    expect(error.message).toBe(
      `rebind.test:${peers.storescp.port} (169.254.169.254) is a link-local or cloud metadata address: link-local and metadata addresses are never allowed`,
    );
    // One resolution per association, by the guard: the socket never looked the name up itself
    // (rebind.test does not exist for the system resolver).
    expect(asked).toEqual(['rebind.test', 'rebind.test']);
  });
});
