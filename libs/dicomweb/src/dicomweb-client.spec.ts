import { MockAgent } from 'undici';
import { DicomwebClient } from './dicomweb-client';
import type { DicomwebEndpoint } from './dicomweb-endpoint';
import { DicomwebErrorCode } from './dicomweb.errors';

// undici's MockAgent answers in memory: these tests open no sockets. The real-server behaviour
// (TLS, timeouts, Orthanc) is in test/*.int-spec.ts.

const PACS = 'https://pacs.example';
const STUDY = { '0020000D': { vr: 'UI', Value: ['1.2.3'] } };

const BASIC: DicomwebEndpoint = {
  url: `${PACS}/dicom-web`,
  auth: { method: 'basic', username: 'pacs', password: 'pacs-secret' },
  sourceAeTitle: 'VIEWER',
  pacsAeTitle: 'ORTHANC',
  timeoutMs: 2_000,
};

const OAUTH2: DicomwebEndpoint = {
  ...BASIC,
  auth: {
    method: 'oauth2-client-credentials',
    tokenUrl: 'https://idp.example/token',
    clientId: 'pacslink',
    clientSecret: 'client-secret-1',
  },
};

type Headers = Record<string, string>;

let agent: MockAgent;
let client: DicomwebClient;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  client = new DicomwebClient({ dispatcher: agent });
});

afterEach(async () => {
  await client.close();
  await agent.close();
});

function pacs(
  path: string,
  reply: (headers: Headers) => { statusCode: number; data?: string; type?: string },
) {
  return agent
    .get(PACS)
    .intercept({ path, method: 'GET' })
    .reply((options) => {
      const { statusCode, data, type } = reply(options.headers as Headers);
      return {
        statusCode,
        data: data ?? '',
        responseOptions: { headers: { 'content-type': type ?? 'application/dicom+json' } },
      };
    });
}

/** Issues tok-1, tok-2, … and counts the requests. */
function tokenEndpoint() {
  const issued: string[] = [];
  agent
    .get('https://idp.example')
    .intercept({ path: '/token', method: 'POST' })
    .reply(() => {
      issued.push(`tok-${issued.length + 1}`);
      const body = { access_token: issued.at(-1), token_type: 'Bearer', expires_in: 3600 };
      return { statusCode: 200, data: JSON.stringify(body) };
    })
    .persist();
  return issued;
}

describe('qido', () => {
  it('sends Accept, VidarSourceAET, VidarPacsAET and Basic credentials', async () => {
    let seen: Headers = {};
    pacs('/dicom-web/studies?PatientName=DOE^*&limit=5', (headers) => {
      seen = headers;
      return { statusCode: 200, data: JSON.stringify([STUDY]) };
    });
    const found = await client.qido(BASIC, { level: 'studies', filters: { PatientName: 'DOE^*' }, limit: 5 });
    expect(found).toEqual([STUDY]);
    expect(seen).toMatchObject({
      accept: 'application/dicom+json',
      VidarSourceAET: 'VIEWER',
      VidarPacsAET: 'ORTHANC',
      authorization: `Basic ${Buffer.from('pacs:pacs-secret').toString('base64')}`,
    });
  });

  it('logs through the given logger without query values or credentials', async () => {
    const entries: unknown[] = [];
    const logged = new DicomwebClient({
      dispatcher: agent,
      logger: { debug: (entry) => entries.push(entry), warn: (entry) => entries.push(entry) },
    });
    pacs('/dicom-web/studies?PatientName=SECRET^PATIENT', () => ({ statusCode: 200, data: '[]' }));
    await logged.qido(BASIC, { level: 'studies', filters: { PatientName: 'SECRET^PATIENT' } });
    expect(entries).toEqual([
      expect.objectContaining({ msg: 'DICOMweb answer', path: '/dicom-web/studies', status: 200 }),
    ]);
    expect(JSON.stringify(entries)).not.toMatch(/SECRET|pacs-secret/);
  });

  it('answers [] for 204 and for an empty array', async () => {
    pacs('/dicom-web/studies', () => ({ statusCode: 204 }));
    pacs('/dicom-web/series', () => ({ statusCode: 200, data: '[]' }));
    await expect(client.qido(BASIC, { level: 'studies' })).resolves.toEqual([]);
    await expect(client.qido(BASIC, { level: 'series' })).resolves.toEqual([]);
  });

  it('refuses an answer that is not DICOM JSON, saying what came back', async () => {
    pacs('/dicom-web/studies', () => ({
      statusCode: 200,
      data: '{"status":"ok"}',
      type: 'application/json',
    }));
    await expect(client.qido(BASIC, { level: 'studies' })).rejects.toMatchObject({
      code: DicomwebErrorCode.NotDicomweb,
      message:
        'not a DICOMweb endpoint: the answer is JSON but not DICOM JSON (expected an array of datasets, got an object with keys status): application/json: “{"status":"ok"}”',
    });
  });

  it('holds no more than maxResponseBytes', async () => {
    pacs('/dicom-web/studies', () => ({ statusCode: 200, data: JSON.stringify(Array(100).fill(STUDY)) }));
    await expect(client.qido(BASIC, { level: 'studies' }, { maxResponseBytes: 1000 })).rejects.toMatchObject({
      code: DicomwebErrorCode.ResponseTooLarge,
    });
  });

  it('stops when the caller aborts', async () => {
    agent.get(PACS).intercept({ path: '/dicom-web/studies', method: 'GET' }).reply(200, '[]').delay(5_000);
    const aborted = client.qido(BASIC, { level: 'studies' }, { signal: AbortSignal.timeout(20) });
    await expect(aborted).rejects.toMatchObject({ code: DicomwebErrorCode.Aborted });
  });
});

describe('OAuth2 client credentials', () => {
  it('fetches one token, reuses it, and sends it as Bearer', async () => {
    const issued = tokenEndpoint();
    const seen: string[] = [];
    pacs('/dicom-web/studies', (headers) => {
      seen.push(headers.authorization);
      return { statusCode: 200, data: '[]' };
    }).times(3);
    await Promise.all([client.qido(OAUTH2, { level: 'studies' }), client.qido(OAUTH2, { level: 'studies' })]);
    await client.qido(OAUTH2, { level: 'studies' });
    expect(issued).toEqual(['tok-1']);
    expect(seen).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
  });

  it('on a 401 to a cached token, refreshes once and retries once', async () => {
    const issued = tokenEndpoint();
    pacs('/dicom-web/studies', () => ({ statusCode: 200, data: '[]' }));
    await client.qido(OAUTH2, { level: 'studies' });

    const seen: string[] = [];
    pacs('/dicom-web/studies', (headers) => {
      seen.push(headers.authorization);
      return headers.authorization === 'Bearer tok-1' ? { statusCode: 401 } : { statusCode: 200, data: '[]' };
    }).times(2);
    await expect(client.qido(OAUTH2, { level: 'studies' })).resolves.toEqual([]);
    expect(seen).toEqual(['Bearer tok-1', 'Bearer tok-2']);
    expect(issued).toEqual(['tok-1', 'tok-2']);
  });

  it('does not loop: a fresh token refused is an authentication failure', async () => {
    const issued = tokenEndpoint();
    pacs('/dicom-web/studies', () => ({ statusCode: 200, data: '[]' }));
    await client.qido(OAUTH2, { level: 'studies' });
    pacs('/dicom-web/studies', () => ({ statusCode: 401 })).times(2);
    await expect(client.qido(OAUTH2, { level: 'studies' })).rejects.toMatchObject({
      code: DicomwebErrorCode.AuthenticationRejected,
      message:
        'authentication rejected (HTTP 401) — check the client credentials and scope (the PACS refused a token fresh from the token endpoint)',
    });
    expect(issued).toHaveLength(2);
  });
});

describe('testConnection', () => {
  it('recognises a DICOM JSON answer cut off after 64 KiB (a server ignoring limit=1)', async () => {
    const big = JSON.stringify(
      Array(2000).fill({ ...STUDY, '00081030': { vr: 'LO', Value: ['x'.repeat(40)] } }),
    );
    pacs('/dicom-web/studies?limit=1', () => ({ statusCode: 200, data: big }));
    await expect(client.testConnection(BASIC)).resolves.toMatchObject({
      ok: true,
      detail: 'found at least one study',
    });
  });

  it('says so when an empty list came as plain application/json, as other REST APIs answer', async () => {
    pacs('/dicom-web/studies?limit=1', () => ({ statusCode: 200, data: '[]', type: 'application/json' }));
    await expect(client.testConnection(BASIC)).resolves.toMatchObject({
      ok: true,
      detail:
        'the server answered but holds no studies (it answered application/json, not application/dicom+json: check that the URL is the DICOMweb service, not another REST API)',
    });
  });

  it('fails with the configuration problem, without throwing', async () => {
    const result = await client.testConnection({ ...BASIC, url: 'gopher://pacs' });
    expect(result).toMatchObject({
      ok: false,
      message: 'Connection failed',
      detail: 'url must start with http:// or https:// (it starts with gopher://)',
    });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it('gets a fresh token even when one is cached, so a revoked secret shows', async () => {
    const issued = tokenEndpoint();
    pacs('/dicom-web/studies', () => ({ statusCode: 200, data: '[]' }));
    pacs('/dicom-web/studies?limit=1', () => ({ statusCode: 200, data: '[]' }));
    await client.qido(OAUTH2, { level: 'studies' });
    await expect(client.testConnection(OAUTH2)).resolves.toMatchObject({
      ok: true,
      detail: 'the server answered but holds no studies',
    });
    expect(issued).toEqual(['tok-1', 'tok-2']);
  });
});
