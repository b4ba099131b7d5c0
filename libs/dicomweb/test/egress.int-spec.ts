import type { LookupAddress } from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { EgressGuard, EgressPolicy, parseCidrList, type Resolver } from '@pacslink/egress';
import { testEgressGuard } from '@pacslink/testing';
import { DicomwebClient, type DicomwebEndpoint } from '../src';
import { closeServer, listenLocal } from './local-servers';

// The egress policy at connect time, against HTTP servers of this test's own on 127.0.0.1: nothing
// leaves loopback. Link-local and metadata addresses are in src/egress.spec.ts (no socket at all).

let pacs: Server;
let pacsUrl: string;
let bystander: Server;
let bystanderUrl: string;
const hits = { pacs: 0, bystander: 0 };

function route(request: IncomingMessage, response: ServerResponse): void {
  hits.pacs += 1;
  const path = request.url ?? '';
  if (path.startsWith('/to-bystander/')) {
    response.writeHead(302, { location: `${bystanderUrl}/dicom-web/studies?limit=1` }).end();
  } else if (path.startsWith('/to-metadata/')) {
    response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
  } else {
    response.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
  }
}

beforeAll(async () => {
  pacs = createServer(route);
  pacsUrl = `http://127.0.0.1:${await listenLocal(pacs)}`;
  bystander = createServer((_, response) => {
    hits.bystander += 1;
    response.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
  });
  bystanderUrl = `http://127.0.0.1:${await listenLocal(bystander)}`;
});

beforeEach(() => {
  hits.pacs = 0;
  hits.bystander = 0;
});

afterAll(async () => {
  await Promise.all([closeServer(pacs), closeServer(bystander)]);
});

function endpoint(url: string): DicomwebEndpoint {
  return { url, auth: { method: 'none' }, pacsAeTitle: 'PACS', timeoutMs: 3_000 };
}

function guard(allow: string, resolver?: Resolver): EgressGuard {
  return new EgressGuard(new EgressPolicy(parseCidrList(allow), []), { resolver });
}

async function withClient<T>(egress: EgressGuard, use: (client: DicomwebClient) => Promise<T>): Promise<T> {
  const client = new DicomwebClient({ egress });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** host:port of a URL from the environment (the broker's, the database's). */
function hostPortOf(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || defaultPort) };
}

describe('egress: DICOMweb connects only where a PACS may be', () => {
  it('refuses a loopback address outside EGRESS_ALLOW_CIDRS (127.0.0.2/32 allowed, 127.0.0.1 asked)', async () => {
    const { port } = new URL(pacsUrl);
    const result = await withClient(guard('127.0.0.2/32'), (client) =>
      client.testConnection(endpoint(`${pacsUrl}/dicom-web`)),
    );
    expect(result).toMatchObject({
      ok: false,
      message: 'Connection failed',
      detail: `127.0.0.1:${port} (127.0.0.1) is not an allowed PACS address (EGRESS_ALLOW_CIDRS)`,
    });
    expect(hits.pacs).toBe(0);
  });

  it("refuses pacslink's own broker and database although 127.0.0.0/8 is allowed", async () => {
    const broker = hostPortOf(process.env.AMQP_URL ?? 'amqp://127.0.0.1', 5672);
    const database = hostPortOf(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/x', 5432);
    await withClient(testEgressGuard(), async (client) => {
      const toBroker = await client.testConnection(endpoint(`http://127.0.0.1:${broker.port}/dicom-web`));
      expect(toBroker.detail).toBe(
        `127.0.0.1:${broker.port} (127.0.0.1) is pacslink's own broker (AMQP_URL): never allowed as a PACS`,
      );
      const toDatabase = await client.testConnection(endpoint(`http://localhost:${database.port}/dicom-web`));
      expect(toDatabase.detail).toMatch(
        new RegExp(
          `^localhost:${database.port} \\((127\\.0\\.0\\.1|::1)\\) is pacslink's own database \\(DATABASE_URL\\): never allowed as a PACS$`,
        ),
      );
    });
  });

  it('never follows a redirect: not to another allowed server, not to the metadata address', async () => {
    await withClient(guard('127.0.0.0/8'), async (client) => {
      const toBystander = await client.testConnection(endpoint(`${pacsUrl}/to-bystander`));
      expect(toBystander).toMatchObject({
        ok: false,
        detail: `not a DICOMweb endpoint: the server redirects (HTTP 302) to ${bystanderUrl}/dicom-web/studies — a login page? configure the DICOMweb service URL itself`,
      });
      const toMetadata = await client.qido(endpoint(`${pacsUrl}/to-metadata`), { level: 'studies' }).then(
        () => 'followed',
        (error: Error) => error.message,
      );
      expect(toMetadata).toMatch(
        /^not a DICOMweb endpoint: the server redirects \(HTTP 302\) to http:\/\/169\.254/,
      );
    });
    expect(hits).toEqual({ pacs: 2, bystander: 0 });
  });

  it('DNS rebinding: a name that resolves to an allowed address, then to a forbidden one, is refused at the second connect', async () => {
    const answers: LookupAddress[][] = [
      [{ address: '127.0.0.1', family: 4 }],
      [{ address: '169.254.169.254', family: 4 }],
    ];
    const asked: string[] = [];
    const resolver: Resolver = (hostname) => {
      asked.push(hostname);
      return Promise.resolve(answers.length > 1 ? (answers.shift() ?? []) : answers[0]);
    };
    const { port } = new URL(pacsUrl);
    const url = `http://rebind.test:${port}/dicom-web`;
    await withClient(guard('127.0.0.0/8', resolver), async (client) => {
      // Each connection test opens a connection of its own: two connects, two resolutions.
      await expect(client.testConnection(endpoint(url))).resolves.toMatchObject({ ok: true });
      await expect(client.testConnection(endpoint(url))).resolves.toMatchObject({
        ok: false,
        detail: `rebind.test:${port} (169.254.169.254) is a link-local or cloud metadata address: link-local and metadata addresses are never allowed`,
      });
    });
    // One resolution per connect, by the guard: the socket never looked the name up again itself
    // (rebind.test does not exist for the system resolver).
    expect(asked).toEqual(['rebind.test', 'rebind.test']);
    expect(hits.pacs).toBe(1);
  });
});
