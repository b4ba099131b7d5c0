import type { Client } from 'pg';
import { waitUntilReady } from '@pacslink/testing';
import { startConfigService, type RunningConfigService } from './config-service.harness';

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  headers: Headers;
  body: Json;
}
interface Event {
  type: string;
  data: Json;
}

/** Every configuration shows its circuit (ADR 0006, "A circuit per PACS"); a new one's is closed. */
const CLOSED_CIRCUIT = { state: 'closed', failures: 0, openedAt: null, nextProbeAt: null, reason: null };

describe('PACS configurations (REST API, Postgres, events)', () => {
  let service: RunningConfigService;
  let baseUrl: string;
  let sql: Client;
  const events: Event[] = [];

  beforeAll(async () => {
    service = await startConfigService();
    baseUrl = service.baseUrl;
    expect((await waitUntilReady(baseUrl)).status).toBe(200);

    // A subscriber of our own, as the contract describes: a queue bound to pacslink.events.
    await service.subscribe('pacs-config.*', (body) => events.push(JSON.parse(body) as Event));

    sql = await service.connectSql();
  });

  afterAll(() => service?.stop());

  async function call(method: string, path: string, body?: unknown, headers: Json = {}): Promise<Answer> {
    const response = await service.call(method, path, body, undefined, headers as Record<string, string>);
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Json) : {},
    };
  }

  const post = (body: unknown) => call('POST', '/pacs-configs', body);
  const get = (id: string) => call('GET', `/pacs-configs/${id}`);
  const patch = (id: string, body: unknown, headers: Json = {}) =>
    call('PATCH', `/pacs-configs/${id}`, body, headers);
  const remove = (id: string, headers: Json = {}) =>
    call('DELETE', `/pacs-configs/${id}`, undefined, headers);
  const list = async (query = '') => (await call('GET', `/pacs-configs?limit=500${query}`)).body;

  let aeCounter = 0;
  const nextAe = () => `PACS_${++aeCounter}`;
  const dicomweb = (overrides: Json = {}): Json => ({
    type: 'dicomweb',
    aeTitle: nextAe(),
    name: 'Orthanc (DICOMweb)',
    url: 'https://pacs.example.org/dicom-web',
    ...overrides,
  });
  const dimse = (overrides: Json = {}): Json => ({
    type: 'dimse',
    aeTitle: nextAe(),
    name: 'Orthanc (DIMSE)',
    host: 'pacs.example.org',
    port: 104,
    ...overrides,
  });

  async function created(body: Json): Promise<Json> {
    const answer = await post(body);
    expect(answer).toMatchObject({ status: 201 });
    return answer.body;
  }

  /** A 400 problem+json whose `errors` name `field` (and whose message matches, when given). */
  function expectFieldError(answer: Answer, field: string, message?: RegExp): void {
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status: 400, title: 'invalid request' });
    const errors = answer.body.errors as { field: string; message: string }[];
    const named = errors.filter((error) => error.field === field);
    expect(named).not.toHaveLength(0);
    if (message) expect(named.map((error) => error.message).join('\n')).toMatch(message);
  }

  function expectProblem(answer: Answer, status: number): void {
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status });
    expect(typeof answer.body.detail).toBe('string');
  }

  async function eventsFor(id: string, count: number): Promise<Event[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = events.filter((event) => event.data.id === id);
      if (found.length >= count || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  describe('create, read, list, patch, delete', () => {
    it('creates a DICOMweb configuration with its defaults, ETag and Location', async () => {
      const body = dicomweb({ aeTitle: 'ORTHANC_DW', name: 'Orthanc Süd' });
      const answer = await post(body);
      expect(answer.status).toBe(201);
      const id = answer.body.id as string;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.headers.get('location')).toBe(`/api/v1/pacs-configs/${id}`);
      expect(answer.headers.get('etag')).toBe(`"${id}.1"`);
      expect(answer.body).toEqual({
        id,
        type: 'dicomweb',
        typeLabel: 'DW',
        aeTitle: 'ORTHANC_DW',
        name: 'Orthanc Süd',
        url: 'https://pacs.example.org/dicom-web',
        qidoRs: false,
        stowRs: false,
        stowMultipartRelated: true,
        sourceAeTitle: null,
        auth: { method: 'none' },
        timeoutMs: 30000,
        createdAt: expect.any(String) as unknown,
        updatedAt: answer.body.createdAt,
        circuit: CLOSED_CIRCUIT,
      });

      const read = await get(id);
      expect(read.status).toBe(200);
      expect(read.headers.get('etag')).toBe(`"${id}.1"`);
      expect(read.body).toEqual(answer.body);
    });

    it('creates a DIMSE configuration with its defaults', async () => {
      const answer = await post(dimse({ aeTitle: 'ORTHANC_T', port: 4242 }));
      expect(answer.status).toBe(201);
      expect(answer.body).toEqual({
        id: expect.any(String) as unknown,
        type: 'dimse',
        typeLabel: 'T',
        aeTitle: 'ORTHANC_T',
        name: 'Orthanc (DIMSE)',
        host: 'pacs.example.org',
        port: 4242,
        cStore: false,
        queryRetrieve: false,
        queryAeTitle: null,
        retrieveMethod: 'get-then-move',
        moveDestinationAeTitle: 'PACSLINK',
        mwl: false,
        mwlEncoding: 'ISO_IR 192',
        mpps: false,
        timeoutMs: 30000,
        maxAssociations: 1,
        createdAt: expect.any(String) as unknown,
        updatedAt: expect.any(String) as unknown,
        circuit: CLOSED_CIRCUIT,
      });
    });

    it('keeps every field given on create', async () => {
      const full = dimse({
        cStore: true,
        queryRetrieve: true,
        queryAeTitle: 'QUERY_SCU',
        retrieveMethod: 'move',
        moveDestinationAeTitle: 'MY_SCP',
        mwl: true,
        mwlEncoding: 'ISO_IR 100',
        mpps: true,
        timeoutMs: 1000,
        maxAssociations: 64,
      });
      expect(await created(full)).toMatchObject(full);

      const web = dicomweb({
        qidoRs: true,
        stowRs: true,
        stowMultipartRelated: false,
        sourceAeTitle: 'VIEWER',
        timeoutMs: 600000,
        auth: {
          method: 'oauth2-client-credentials',
          tokenUrl: 'https://auth.example.org/token',
          clientId: 'pacslink',
          clientSecret: 'cs',
          scope: 'a b',
        },
      });
      expect(await created(web)).toMatchObject({
        ...web,
        auth: {
          method: 'oauth2-client-credentials',
          tokenUrl: 'https://auth.example.org/token',
          clientId: 'pacslink',
          clientSecretSet: true,
          scope: 'a b',
        },
      });
    });

    it('lists as {items,total,limit,offset}, paginated', async () => {
      const names = ['Zulu-list', 'Zulu-list', 'Zulu-list'];
      for (const name of names) await created(dicomweb({ name }));
      const all = await list();
      expect(all).toMatchObject({ limit: 500, offset: 0 });
      expect((all.items as Json[]).length).toBe(all.total);
      const total = all.total as number;
      const page = (await call('GET', `/pacs-configs?limit=2&offset=${total - 3}`)).body;
      expect(page).toMatchObject({ total, limit: 2, offset: total - 3 });
      expect((page.items as Json[]).map((item) => item.name)).toEqual(['Zulu-list', 'Zulu-list']);
      expectFieldError(await call('GET', '/pacs-configs?limit=0'), 'limit');
      expectFieldError(await call('GET', '/pacs-configs?capability=teleport'), 'capability');
    });

    it('patches some fields, bumps the ETag and keeps the others', async () => {
      const before = await created(dicomweb({ qidoRs: true }));
      const id = before.id as string;
      await new Promise((resolve) => setTimeout(resolve, 5));
      const answer = await patch(id, { name: 'Renamed', stowRs: true, sourceAeTitle: 'SRC' });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('etag')).toBe(`"${id}.2"`);
      expect(answer.body).toEqual({
        ...before,
        name: 'Renamed',
        stowRs: true,
        sourceAeTitle: 'SRC',
        updatedAt: expect.any(String) as unknown,
      });
      expect(Date.parse(answer.body.updatedAt as string)).toBeGreaterThan(
        Date.parse(before.updatedAt as string),
      );
      expect((await get(id)).body).toEqual(answer.body);

      // null clears an optional AE title; it is refused for a field that cannot be empty
      expect((await patch(id, { sourceAeTitle: null })).body.sourceAeTitle).toBeNull();
      expectFieldError(await patch(id, { url: null }), 'url');
      expectFieldError(await patch(id, { qidoRs: null }), 'qidoRs');
      expect((await get(id)).headers.get('etag')).toBe(`"${id}.3"`);
    });

    it('patches a DIMSE configuration', async () => {
      const before = await created(dimse());
      const answer = await patch(before.id as string, {
        port: 11112,
        mwl: true,
        retrieveMethod: 'get',
        queryAeTitle: 'Q',
      });
      expect(answer.body).toMatchObject({
        port: 11112,
        mwl: true,
        retrieveMethod: 'get',
        queryAeTitle: 'Q',
        host: 'pacs.example.org',
      });
      expectFieldError(
        await patch(before.id as string, { url: 'https://x.example.org' }),
        'url',
        /dicomweb field/,
      );
    });

    it('answers If-Match: current → 200, stale → 412 problem, * → 200', async () => {
      const { id } = await created(dimse());
      const first = await patch(id as string, { name: 'one' }, { 'if-match': `"${id as string}.1"` });
      expect(first.status).toBe(200);
      const stale = await patch(id as string, { name: 'two' }, { 'if-match': `"${id as string}.1"` });
      expectProblem(stale, 412);
      expect(stale.body.detail).toMatch(/does not match/);
      expect((await get(id as string)).body.name).toBe('one');
      expectProblem(await patch(id as string, { name: 'two' }, { 'if-match': 'garbage' }), 412);
      expect(
        (await patch(id as string, { name: 'two' }, { 'if-match': `W/"${id as string}.2"` })).status,
      ).toBe(200);
      expect((await patch(id as string, { name: 'three' }, { 'if-match': '*' })).status).toBe(200);
      expectProblem(await remove(id as string, { 'if-match': `"${id as string}.1"` }), 412);
      expect((await remove(id as string, { 'if-match': `"${id as string}.4"` })).status).toBe(204);
    });

    it('refuses to change the type (409) but accepts the same type', async () => {
      const web = await created(dicomweb());
      const conflict = await patch(web.id as string, { type: 'dimse', host: 'h', port: 104 });
      expectProblem(conflict, 409);
      expect(conflict.body.detail).toMatch(/type is fixed at creation/);
      expectProblem(await patch((await created(dimse())).id as string, { type: 'dicomweb' }), 409);
      expect((await patch(web.id as string, { type: 'dicomweb', name: 'same type' })).status).toBe(200);
      expectFieldError(await patch(web.id as string, { type: 'wado' }), 'type');
      expectFieldError(await patch(web.id as string, { typeLabel: 'T' }), 'typeLabel', /read-only/);
    });

    it('deletes: 204, then 404 for GET, PATCH and DELETE', async () => {
      const { id } = await created(dimse());
      const answer = await remove(id as string);
      expect(answer.status).toBe(204);
      for (const gone of [
        await get(id as string),
        await patch(id as string, { name: 'x' }),
        await remove(id as string),
      ]) {
        expectProblem(gone, 404);
      }
    });

    it('answers a path id that is not a uuid with 400, not 500', async () => {
      for (const answer of [
        await get('not-a-uuid'),
        await patch('1234', { name: 'x' }),
        await remove("'; DROP TABLE pacs_config; --"),
      ]) {
        expectProblem(answer, 400);
      }
      expectProblem(await get('00000000-0000-4000-8000-000000000000'), 404);
    });

    it('requires the API key', async () => {
      const response = await fetch(`${baseUrl}/api/v1/pacs-configs`);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });
  });

  describe('AE titles', () => {
    it.each([
      ['empty', ''],
      ['all spaces', '    '],
      ['17 characters', 'SEVENTEEN_CHARS17'],
      ['a backslash', 'BACK\\SLASH'],
      ['a tab', 'TAB\tHERE'],
      ['an escape', 'ESC\u001bX'],
      ['non-ASCII', 'ÄRZTE'],
      ['not a string', 42],
      ['null', null],
    ])('refuses %s', async (_, aeTitle) => {
      expectFieldError(await post(dicomweb({ aeTitle })), 'aeTitle');
    });

    it('refuses bad optional AE titles too', async () => {
      expectFieldError(await post(dicomweb({ sourceAeTitle: 'A\\B' })), 'sourceAeTitle');
      expectFieldError(await post(dimse({ queryAeTitle: 'X'.repeat(17) })), 'queryAeTitle');
      expectFieldError(await post(dimse({ moveDestinationAeTitle: '' })), 'moveDestinationAeTitle');
      expectFieldError(await post(dimse({ moveDestinationAeTitle: null })), 'moveDestinationAeTitle');
    });

    it('accepts 16 characters and stores trimmed, case kept', async () => {
      expect((await created(dimse({ aeTitle: 'SIXTEEN_CHARS_16' }))).aeTitle).toBe('SIXTEEN_CHARS_16');
      const padded = await created(dimse({ aeTitle: '  Mixed Case Ae  ', queryAeTitle: ' q ' }));
      expect(padded).toMatchObject({ aeTitle: 'Mixed Case Ae', queryAeTitle: 'q' });
      const { rows } = await sql.query<{ ae_title: string }>(
        'SELECT ae_title FROM pacs_config WHERE id = $1',
        [padded.id],
      );
      expect(rows[0].ae_title).toBe('Mixed Case Ae');
    });

    it('refuses a duplicate compared case-insensitively, across types, with 409 naming the clash', async () => {
      const first = await created(dimse({ aeTitle: 'Clash_Ae' }));
      const answer = await post(dicomweb({ aeTitle: ' clash_AE ' }));
      expectProblem(answer, 409);
      expect(answer.body.detail).toContain('aeTitle "clash_AE" is already used');
      expect(answer.body.detail).toContain(first.id as string);
      expect(answer.body.errors).toEqual([expect.objectContaining({ field: 'aeTitle' })]);

      const other = await created(dimse());
      expectProblem(await patch(other.id as string, { aeTitle: 'CLASH_AE' }), 409);
      // its own title in another case is not a clash
      expect((await patch(first.id as string, { aeTitle: 'CLASH_AE' })).body.aeTitle).toBe('CLASH_AE');
    });

    it('lets only one of two simultaneous creates have a title (201 and 409)', async () => {
      for (let round = 0; round < 5; round++) {
        const answers = await Promise.all([
          post(dicomweb({ aeTitle: `race_${round}` })),
          post(dimse({ aeTitle: `RACE_${round}` })),
        ]);
        expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
      }
    });
  });

  describe('validation', () => {
    it('refuses an unknown field by name', async () => {
      expectFieldError(await post(dicomweb({ colour: 'blue' })), 'colour', /should not exist/);
      expectFieldError(await post(dimse({ auth: { method: 'none' } })), 'auth', /dicomweb field/);
      expectFieldError(await post(dicomweb({ auth: { method: 'none', extra: 1 } })), 'auth.extra');
    });

    it('refuses the fields of the other type by name', async () => {
      const answer = await post(dicomweb({ port: 104, mwl: true }));
      expectFieldError(answer, 'port', /port is a dimse field: not allowed on a dicomweb configuration/);
      expectFieldError(answer, 'mwl');
      expectFieldError(
        await post(dimse({ url: 'https://x.example.org', qidoRs: true })),
        'url',
        /dicomweb field/,
      );
    });

    it('refuses read-only fields, and a missing or unknown type', async () => {
      expectFieldError(await post(dicomweb({ typeLabel: 'DW' })), 'typeLabel', /read-only/);
      expectFieldError(
        await post(dicomweb({ id: '00000000-0000-4000-8000-000000000000' })),
        'id',
        /read-only/,
      );
      expectFieldError(await post({ aeTitle: 'X', name: 'x' }), 'type', /dicomweb, dimse/);
      expectFieldError(await post(dicomweb({ type: 'wado' })), 'type');
      expectProblem(await post([dicomweb()]), 400);
      expectProblem(await post('"a string"'), 400);
    });

    it('requires the required fields', async () => {
      const answer = await post({ type: 'dimse' });
      for (const field of ['aeTitle', 'name', 'host', 'port']) expectFieldError(answer, field);
      const web = await post({ type: 'dicomweb' });
      for (const field of ['aeTitle', 'name', 'url']) expectFieldError(web, field);
    });

    it.each([
      ['relative', '/dicom-web', /absolute/],
      ['ftp', 'ftp://pacs.example.org/dicom-web', /http or https/],
      ['credentials inside', 'https://user:secret@pacs.example.org/dicom-web', /put credentials in auth/],
      ['a user name inside', 'https://user@pacs.example.org/dicom-web', /put credentials in auth/],
      ['garbage', 'not a url at all', /spaces|absolute/],
      ['no slashes', 'http:pacs.example.org', /absolute/],
      ['a fragment', 'https://pacs.example.org/dicom-web#studies', /fragment/],
      ['too long', `https://pacs.example.org/${'a'.repeat(2048)}`, /at most 2048/],
      ['not a string', 42, /string/],
    ])('refuses a url that is %s', async (_, url, message) => {
      const answer = await post(dicomweb({ url }));
      expectFieldError(answer, 'url', message);
      expect(JSON.stringify(answer.body)).not.toContain('secret@');
    });

    it('accepts http and https URLs with port, path and query', async () => {
      for (const url of [
        'http://10.0.0.5:8042/dicom-web',
        'https://pacs.example.org/dcm4chee-arc/aets/DCM4CHEE/rs?x=1',
      ]) {
        expect((await created(dicomweb({ url }))).url).toBe(url);
      }
    });

    it.each([
      ['0', 0],
      ['65536', 65536],
      ['a string', '104'],
      ['a fraction', 1.5],
      ['negative', -1],
      ['null', null],
    ])('refuses port %s', async (_, port) => {
      expectFieldError(await post(dimse({ port })), 'port');
    });

    it('accepts ports 1 and 65535', async () => {
      expect((await created(dimse({ port: 1 }))).port).toBe(1);
      expect((await created(dimse({ port: 65535 }))).port).toBe(65535);
    });

    it.each([
      ['with a space', 'pacs example.org'],
      ['with an underscore', 'pacs_1.example.org'],
      ['starting with a hyphen', '-pacs.example.org'],
      ['with an empty label', 'pacs..example.org'],
      ['a bad IPv4 address', '10.0.0.256'],
      ['a 64-character label', `${'a'.repeat(64)}.example.org`],
      ['254 characters', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`],
      ['a bracketed IPv6 address', '[::1]'],
      ['a URL', 'http://pacs.example.org'],
      ['empty', ''],
    ])('refuses a host %s', async (_, host) => {
      expectFieldError(await post(dimse({ host })), 'host');
    });

    it('accepts host names and IP literals', async () => {
      for (const host of [
        'localhost',
        'pacs-1.example.org',
        '10.0.0.5',
        '::1',
        '2001:db8::7',
        'PACS.EXAMPLE.ORG.',
      ]) {
        expect((await created(dimse({ host }))).host).toBe(host);
      }
    });

    it('refuses bad enumerations and ranges', async () => {
      expectFieldError(await post(dimse({ mwlEncoding: 'UTF-8' })), 'mwlEncoding');
      expectFieldError(await post(dimse({ retrieveMethod: 'c-get' })), 'retrieveMethod');
      expectFieldError(await post(dimse({ timeoutMs: 999 })), 'timeoutMs');
      expectFieldError(await post(dicomweb({ timeoutMs: 600001 })), 'timeoutMs');
      expectFieldError(await post(dimse({ maxAssociations: 65 })), 'maxAssociations');
      expectFieldError(await post(dimse({ maxAssociations: 0 })), 'maxAssociations');
      expectFieldError(await post(dimse({ mwl: 'yes' })), 'mwl');
      expectFieldError(await post(dicomweb({ qidoRs: 1 })), 'qidoRs');
      expect((await created(dimse({ mwlEncoding: 'ISO 2022 IR 87' }))).mwlEncoding).toBe('ISO 2022 IR 87');
    });

    it('takes any Unicode name of 1–128 characters, names may repeat', async () => {
      for (const name of ['Радиология', '放射線科 PACS', '🩻 X-ray', 'x'.repeat(128), '🩻'.repeat(128)]) {
        expect((await created(dimse({ name }))).name).toBe(name);
      }
      expect((await created(dimse({ name: 'Радиология' }))).name).toBe('Радиология');
      expectFieldError(await post(dimse({ name: '' })), 'name');
      expectFieldError(await post(dimse({ name: '   ' })), 'name');
      expectFieldError(await post(dimse({ name: 'x'.repeat(129) })), 'name', /at most 128/);
      expectFieldError(await post(dimse({ name: 'nul\u0000byte' })), 'name', /control/);
    });

    it.each([
      ['an unknown method', { method: 'digest', username: 'u', password: 'p' }, 'auth.method'],
      ['no method', { username: 'u' }, 'auth.method'],
      ['basic without password', { method: 'basic', username: 'u' }, 'auth.password'],
      [
        'basic with a colon in the user',
        { method: 'basic', username: 'a:b', password: 'p' },
        'auth.username',
      ],
      ['bearer without token', { method: 'bearer' }, 'auth.token'],
      [
        'bearer with a token field of basic',
        { method: 'bearer', token: 't', password: 'p' },
        'auth.password',
      ],
      ['a token with spaces', { method: 'bearer', token: 'a b' }, 'auth.token'],
      [
        'oauth2 with a relative token URL',
        { method: 'oauth2-client-credentials', tokenUrl: '/token', clientId: 'c', clientSecret: 's' },
        'auth.tokenUrl',
      ],
      [
        'oauth2 without a client secret',
        { method: 'oauth2-client-credentials', tokenUrl: 'https://a.example.org/t', clientId: 'c' },
        'auth.clientSecret',
      ],
      ['a string', 'none', 'auth'],
      ['null', null, 'auth'],
    ])('refuses auth with %s', async (_, auth, field) => {
      const answer = await post(dicomweb({ auth }));
      expectFieldError(answer, field);
      if (field === 'auth.method') {
        expect((answer.body.errors as Json[]).map((error) => error.field)).toEqual(['auth.method']);
      }
    });

    it('answers malformed JSON with 400 problem+json', async () => {
      expectProblem(await post('{"type": "dimse", "aeTitle": '), 400);
    });

    it('answers a body over JSON_BODY_LIMIT (256kb) with 413 problem+json', async () => {
      expectProblem(await post(dimse({ name: 'x'.repeat(300_000) })), 413);
    });
  });

  describe('capability filter', () => {
    async function setAllowTransfer(allow: boolean): Promise<void> {
      const result = await sql.query('UPDATE settings SET allow_transfer = $1 WHERE id = 1', [allow]);
      expect(result.rowCount).toBe(1);
    }

    it('offers import and export only while transfers are allowed; worklist always', async () => {
      const web = await created(dicomweb({ qidoRs: true, stowRs: false }));
      const webExport = await created(dicomweb({ qidoRs: false, stowRs: true }));
      const qr = await created(dimse({ queryRetrieve: true }));
      const store = await created(dimse({ cStore: true, mwl: true }));
      const nothing = await created(dimse());
      const ids = (page: Json) => (page.items as Json[]).map((item) => item.id);

      await setAllowTransfer(false);
      for (const capability of ['import', 'export']) {
        expect(await list(`&capability=${capability}`)).toEqual({
          items: [],
          total: 0,
          limit: 500,
          offset: 0,
        });
      }
      const worklist = ids(await list('&capability=worklist'));
      expect(worklist).toContain(store.id);
      expect(worklist).not.toContain(nothing.id);
      expect(ids(await list())).toEqual(
        expect.arrayContaining([web.id, webExport.id, qr.id, store.id, nothing.id]),
      );

      await setAllowTransfer(true);
      try {
        const imports = ids(await list('&capability=import'));
        expect(imports).toEqual(expect.arrayContaining([web.id, qr.id]));
        for (const id of [webExport.id, store.id, nothing.id]) expect(imports).not.toContain(id);
        const exports = ids(await list('&capability=export'));
        expect(exports).toEqual(expect.arrayContaining([webExport.id, store.id]));
        for (const id of [web.id, qr.id, nothing.id]) expect(exports).not.toContain(id);
        const page = await list('&capability=import');
        expect(page.total).toBe((page.items as Json[]).length);
        expect(
          (page.items as Json[]).every((item) => item.qidoRs === true || item.queryRetrieve === true),
        ).toBe(true);
      } finally {
        await setAllowTransfer(false);
      }
    });
  });

  describe('events and audit', () => {
    it('publishes pacs-config.created, .updated and .deleted with {id, type, aeTitle, name}', async () => {
      const config = await created(
        dicomweb({
          aeTitle: 'EVENTFUL',
          name: 'Events',
          auth: { method: 'bearer', token: 'tok-event-secret' },
        }),
      );
      const id = config.id as string;
      await patch(id, { name: 'Events renamed' });
      await remove(id);
      const seen = await eventsFor(id, 3);
      expect(seen.map((event) => event.type)).toEqual([
        'pacs-config.created',
        'pacs-config.updated',
        'pacs-config.deleted',
      ]);
      expect(seen.map((event) => event.data)).toEqual([
        { id, type: 'dicomweb', aeTitle: 'EVENTFUL', name: 'Events' },
        { id, type: 'dicomweb', aeTitle: 'EVENTFUL', name: 'Events renamed' },
        { id, type: 'dicomweb', aeTitle: 'EVENTFUL', name: 'Events renamed' },
      ]);
      for (const event of seen) {
        expect(event).toMatchObject({
          eventId: expect.any(String) as unknown,
          occurredAt: expect.any(String) as unknown,
        });
      }
      expect(JSON.stringify(seen)).not.toContain('tok-event-secret');
    });

    it('publishes nothing for a refused change', async () => {
      const before = events.length;
      await post(dicomweb({ port: 1 }));
      const taken = await created(dimse());
      await post(dimse({ aeTitle: taken.aeTitle }));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(events.slice(before).map((event) => event.data.id)).toEqual([taken.id]);
    });

    it('audits each change with the actor, never the key, secrets masked', async () => {
      const config = await created(
        dicomweb({ auth: { method: 'basic', username: 'auditor', password: 'audit-pass-1' } }),
      );
      const id = config.id as string;
      await patch(id, { auth: { method: 'basic', username: 'auditor', password: 'audit-pass-2' } });
      await remove(id);
      const audit = await call('GET', '/audit?limit=500');
      const mine = (audit.body.items as Json[]).filter((entry) => entry.entityId === id).reverse();
      expect(mine.map((entry) => entry.action)).toEqual([
        'pacs-config.created',
        'pacs-config.updated',
        'pacs-config.deleted',
      ]);
      for (const entry of mine) {
        expect(entry).toMatchObject({
          entityType: 'pacs-config',
          actor: expect.stringMatching(/^key:[0-9a-f]{12}$/) as unknown,
        });
      }
      expect(mine[0].change).toMatchObject({
        input: { auth: { method: 'basic', username: 'auditor', password: '***' } },
        after: { id, auth: { method: 'basic', username: 'auditor', passwordSet: true } },
      });
      expect(mine[1].change).toMatchObject({
        input: { auth: { password: '***' } },
        before: { id },
        after: { id },
      });
      expect(mine[2].change).toMatchObject({ before: { id } });
      const text = JSON.stringify(audit.body);
      expect(text).not.toContain('audit-pass');
      expect(text).not.toContain(service.apiKey);
    });
  });

  describe('OpenAPI', () => {
    it('documents both shapes (oneOf by type), every field with examples, and the error answers', async () => {
      const document = (await service.apiDocument()) as {
        paths: Record<
          string,
          Record<string, { tags: string[]; requestBody?: Json; responses: Record<string, Json> }>
        >;
        components: { schemas: Record<string, { properties: Record<string, Json>; required?: string[] }> };
      };
      const collection = document.paths['/api/v1/pacs-configs'];
      const item = document.paths['/api/v1/pacs-configs/{id}'];
      expect(collection.post.tags).toEqual(['pacs-configs']);
      const createSchema = (collection.post.requestBody as { content: Record<string, { schema: Json }> })
        .content['application/json'].schema;
      expect(createSchema).toMatchObject({
        oneOf: [
          { $ref: '#/components/schemas/CreateDicomwebPacsConfigDto' },
          { $ref: '#/components/schemas/CreateDimsePacsConfigDto' },
        ],
        discriminator: { propertyName: 'type' },
      });
      expect(Object.keys(collection.post.responses).sort()).toEqual([
        '201',
        '400',
        '401',
        '403',
        '409',
        '413',
      ]);
      expect(Object.keys(item.patch.responses).sort()).toEqual([
        '200',
        '400',
        '401',
        '403',
        '404',
        '409',
        '412',
        '413',
      ]);
      expect(Object.keys(item.get.responses).sort()).toEqual(['200', '400', '401', '403', '404']);
      expect(Object.keys(item.delete.responses).sort()).toEqual(['204', '400', '401', '403', '404', '412']);
      expect(collection.post.responses['409'].content).toHaveProperty(['application/problem+json']);

      const { schemas } = document.components;
      expect(schemas.CreateDicomwebPacsConfigDto.required).toEqual(
        expect.arrayContaining(['type', 'aeTitle', 'name', 'url']),
      );
      expect(schemas.CreateDimsePacsConfigDto.required).toEqual(
        expect.arrayContaining(['type', 'aeTitle', 'name', 'host', 'port']),
      );
      expect(schemas.CreateDicomwebPacsConfigDto.properties.auth).toMatchObject({
        discriminator: { propertyName: 'method' },
      });
      expect(schemas.BasicAuthDto.properties.password).toMatchObject({ writeOnly: true });
      for (const name of ['CreateDicomwebPacsConfigDto', 'CreateDimsePacsConfigDto']) {
        for (const [field, property] of Object.entries(schemas[name].properties)) {
          if (field !== 'auth') expect([field, property.example]).not.toEqual([field, undefined]);
        }
      }
      expect(Object.keys(schemas.DicomwebPacsConfigResponse.properties)).toEqual(
        expect.arrayContaining(['typeLabel', 'auth', 'createdAt']),
      );
      expect(JSON.stringify(schemas.BasicAuthResponse)).not.toContain('"password"');
    });
  });
});
