import {
  A_STRING,
  expectFieldError,
  expectProblem,
  newApiKey,
  startConfigService,
  type RunningConfigService,
} from './config-service.harness';

const API_KEY = newApiKey();
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
// Typed as unknown: jest's asymmetric matchers are `any`, which the lint rules keep out of objects.
const AN_ISO_DATE: unknown = expect.stringMatching(ISO_DATE);

interface Item {
  aeTitle: string;
  description?: string;
  createdAt: string;
}

interface ItemPage {
  items: Item[];
  total: number;
  limit: number;
  offset: number;
}

describe('local AE titles (/api/v1/local-ae-titles)', () => {
  let service: RunningConfigService;

  beforeAll(async () => {
    service = await startConfigService({ apiKey: API_KEY });
  });

  afterAll(() => service?.stop());

  const call: RunningConfigService['call'] = (...args) => service.call(...args);

  const post = (body: unknown) => call('POST', '/local-ae-titles', body);
  const remove = (aeTitle: string) => call('DELETE', `/local-ae-titles/${encodeURIComponent(aeTitle)}`);

  async function list(query = ''): Promise<ItemPage> {
    const response = await call('GET', `/local-ae-titles${query}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return (await response.json()) as ItemPage;
  }

  async function titles(): Promise<string[]> {
    return (await list('?limit=500')).items.map((item) => item.aeTitle);
  }

  const auditEntries = () => service.auditEntries();

  async function created(body: { aeTitle: string; description?: string }): Promise<Item> {
    const response = await post(body);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return (await response.json()) as Item;
  }

  it('lists the seeded PACSLINK in the contract list shape', async () => {
    const page = await list();
    expect(page).toEqual({
      items: [{ aeTitle: 'PACSLINK', description: A_STRING, createdAt: AN_ISO_DATE }],
      total: 1,
      limit: 50,
      offset: 0,
    });
  });

  it('creates a title (201) with its description, lists it, and audits it with the caller', async () => {
    const item = await created({ aeTitle: 'CT_ROOM_1', description: 'CT reading room' });
    expect(item).toEqual({
      aeTitle: 'CT_ROOM_1',
      description: 'CT reading room',
      createdAt: AN_ISO_DATE,
    });
    expect((await list('?limit=500')).items).toContainEqual(item);
    const [latest] = await auditEntries();
    expect(latest).toEqual({
      id: A_STRING,
      occurredAt: AN_ISO_DATE,
      actor: service.actor,
      actorName: null,
      action: 'local-ae-title.created',
      entityType: 'local-ae-title',
      entityId: 'CT_ROOM_1',
      change: { after: { aeTitle: 'CT_ROOM_1', description: 'CT reading room' } },
    });
  });

  it('creates a title without a description, and answers no description field', async () => {
    const item = await created({ aeTitle: 'NODESC' });
    expect(item).toEqual({ aeTitle: 'NODESC', createdAt: AN_ISO_DATE });
  });

  describe('AE title rules (PS3.5 VR AE)', () => {
    it.each([
      ['empty', ''],
      ['all spaces', '                '],
      ['17 characters', 'ABCDEFGHIJKLMNOPQ'],
      ['a backslash', 'PACS\\LINK'],
      ['a tab', 'PACS\tLINK'],
      ['a leading tab (only spaces are padding)', '\tPACS'],
      ['an escape character', 'PACS\u001bLINK'],
      ['a NUL character', 'PACS\u0000'],
      ['a DEL character', 'PACS\u007f'],
      ['a newline', 'PACS\nLINK'],
      ['German non-ASCII letters', 'ÄRZTE'],
      ['Cyrillic letters', 'ПАКС'],
      ['a number', 1234],
      ['null', null],
      ['an object', { value: 'PACS' }],
    ])('refuses %s with 400 naming aeTitle', async (_, aeTitle) => {
      const before = await titles();
      await expectFieldError(await post({ aeTitle }), 'aeTitle');
      expect(await titles()).toEqual(before);
    });

    it('names the reason: a 17-character title says its length', async () => {
      const problem = await expectFieldError(await post({ aeTitle: 'ABCDEFGHIJKLMNOPQ' }), 'aeTitle');
      expect(problem.errors?.[0].message).toMatch(/at most 16 characters/);
    });

    it('refuses a missing aeTitle', async () => {
      await expectFieldError(await post({ description: 'no title' }), 'aeTitle');
    });

    it('accepts exactly 16 characters', async () => {
      expect((await created({ aeTitle: 'ABCDEFGHIJKLMNOP' })).aeTitle).toBe('ABCDEFGHIJKLMNOP');
    });

    it('counts the length after trimming: 16 characters padded with spaces is valid', async () => {
      expect((await created({ aeTitle: '   0123456789ABCDEF  ' })).aeTitle).toBe('0123456789ABCDEF');
    });

    it('stores the title trimmed of leading and trailing spaces, as given otherwise (no upper-casing)', async () => {
      const item = await created({ aeTitle: '  Mixed Case ae  ' });
      expect(item.aeTitle).toBe('Mixed Case ae');
      expect(await titles()).toContain('Mixed Case ae');
      expect(await titles()).not.toContain('MIXED CASE AE');
    });

    it('accepts printable ASCII punctuation, including characters that need URL encoding', async () => {
      for (const aeTitle of ['A/B', 'X%20Y', 'Q?#&', '~!@$^*()[]{}|']) {
        expect((await created({ aeTitle })).aeTitle).toBe(aeTitle);
      }
    });
  });

  describe('uniqueness, compared case-insensitively', () => {
    it('refuses a title that exists in another case with 409 naming the existing title', async () => {
      const before = (await auditEntries()).length;
      const problem = await expectProblem(await post({ aeTitle: ' mixed CASE AE ' }), 409);
      expect(problem.detail).toMatch(/"Mixed Case ae" already exists/);
      expect(await titles()).not.toContain('mixed CASE AE');
      expect(await auditEntries()).toHaveLength(before);
    });

    it('refuses the seeded PACSLINK in lower case', async () => {
      await expectProblem(await post({ aeTitle: 'pacslink' }), 409);
    });

    it('gives exactly one 201 and one 409 to two simultaneous POSTs of the same title in different cases', async () => {
      for (let round = 0; round < 5; round++) {
        const responses = await Promise.all([
          post({ aeTitle: `Race_Title_${round}` }),
          post({ aeTitle: `RACE_TITLE_${round}` }),
        ]);
        expect(responses.map((response) => response.status).sort()).toEqual([201, 409]);
        const conflict = responses.find((response) => response.status === 409) as Response;
        const problem = await expectProblem(conflict, 409);
        expect(problem.detail).toMatch(new RegExp(`already exists`));
        const stored = (await titles()).filter((title) => title.toUpperCase() === `RACE_TITLE_${round}`);
        expect(stored).toHaveLength(1);
        const audited = (await auditEntries()).filter(
          (entry) =>
            entry.action === 'local-ae-title.created' &&
            entry.entityId?.toUpperCase() === `RACE_TITLE_${round}`,
        );
        expect(audited).toHaveLength(1);
      }
    });
  });

  describe('description', () => {
    it('accepts 256 characters, counted as Unicode characters', async () => {
      const description = '😀'.repeat(256);
      expect((await created({ aeTitle: 'DESC_256', description })).description).toBe(description);
      const emoji = '❤️'.repeat(128);
      expect((await created({ aeTitle: 'DESC_EMOJI', description: emoji })).description).toBe(emoji);
    });

    it.each([
      ['257 characters', 'x'.repeat(257)],
      ['257 astral characters', '😀'.repeat(257)],
      ['129 emoji with variation selectors (258 characters)', '❤️'.repeat(129)],
      ['a number', 42],
      ['a NUL character', 'a\u0000b'],
    ])('refuses %s with 400 naming description', async (_, description) => {
      await expectFieldError(await post({ aeTitle: 'DESC_BAD', description }), 'description');
      expect(await titles()).not.toContain('DESC_BAD');
    });
  });

  it('refuses an unknown field with 400 naming it', async () => {
    const problem = await expectFieldError(await post({ aeTitle: 'UNKNOWN_F', colour: 'red' }), 'colour');
    expect(problem.detail).toMatch(/colour/);
    expect(await titles()).not.toContain('UNKNOWN_F');
  });

  describe('listing', () => {
    it('orders by title case-insensitively, in ASCII order, and pages with limit and offset', async () => {
      const all = await list('?limit=500');
      expect(all.total).toBe(all.items.length);
      const names = all.items.map((item) => item.aeTitle);
      const ascii = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      expect(names).toEqual(
        [...names].sort((a, b) => ascii(a.toLowerCase(), b.toLowerCase()) || ascii(a, b)),
      );
      expect(names.indexOf('~!@$^*()[]{}|')).toBe(names.length - 1);
      const page = await list('?limit=2&offset=1');
      expect(page).toEqual({ items: all.items.slice(1, 3), total: all.total, limit: 2, offset: 1 });
    });

    it.each([
      ['limit', '?limit=0'],
      ['limit', '?limit=501'],
      ['limit', '?limit=abc'],
      ['offset', '?offset=-1'],
      ['sort', '?sort=aeTitle'],
    ])('refuses a bad %s (%s) with 400 naming it', async (field, query) => {
      await expectFieldError(await call('GET', `/local-ae-titles${query}`), field);
    });
  });

  describe('DELETE', () => {
    it('deletes (204) by a case-insensitive match, and audits the deletion', async () => {
      await created({ aeTitle: 'To Delete', description: 'temporary' });
      const response = await remove(' to DELETE ');
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
      expect(await titles()).not.toContain('To Delete');
      const [latest] = await auditEntries();
      expect(latest).toMatchObject({
        actor: service.actor,
        action: 'local-ae-title.deleted',
        entityType: 'local-ae-title',
        entityId: 'To Delete',
        change: { before: { aeTitle: 'To Delete', description: 'temporary' } },
      });
    });

    it('deletes titles whose characters need URL encoding', async () => {
      for (const aeTitle of ['A/B', 'X%20Y', 'Q?#&', '~!@$^*()[]{}|']) {
        expect((await remove(aeTitle)).status).toBe(204);
      }
      const left = await titles();
      for (const aeTitle of ['A/B', 'X%20Y', 'Q?#&', '~!@$^*()[]{}|']) expect(left).not.toContain(aeTitle);
    });

    it('answers 404 to a title that does not exist, and to one that was just deleted', async () => {
      const problem = await expectProblem(await remove('NO_SUCH_TITLE'), 404);
      expect(problem.detail).toMatch(/NO_SUCH_TITLE/);
      await expectProblem(await remove('To Delete'), 404);
    });

    it.each([
      ['a NUL character', 'A\u0000B'],
      ['non-ASCII letters', 'ÄRZTE'],
      ['17 characters', 'ABCDEFGHIJKLMNOPQ'],
      ['a backslash', 'A\\B'],
    ])('answers 404, not 500, to a path that is no valid AE title: %s', async (_, aeTitle) => {
      await expectProblem(await remove(aeTitle), 404);
    });

    it('refuses (409) to delete the default calling AE title, saying so', async () => {
      const before = (await auditEntries()).length;
      const problem = await expectProblem(await remove('pacslink'), 409);
      expect(problem.detail).toMatch(/"PACSLINK" is the defaultCallingAeTitle/);
      expect(await titles()).toContain('PACSLINK');
      expect(await auditEntries()).toHaveLength(before);
    });

    it('deletes the former default once another title is the default', async () => {
      const put = await call('PUT', '/settings', {
        allowTransfer: false,
        defaultCallingAeTitle: 'CT_ROOM_1',
      });
      expect(put.status).toBe(200);
      await expectProblem(await remove('CT_ROOM_1'), 409);
      expect((await remove('PACSLINK')).status).toBe(204);
      expect(await titles()).not.toContain('PACSLINK');
    });
  });

  describe('authentication', () => {
    it.each([
      ['no Authorization header', null],
      ['a wrong API key', `${API_KEY}x`],
    ])('answers 401 problem+json to %s and changes nothing', async (_, key) => {
      const before = await titles();
      await expectProblem(await call('GET', '/local-ae-titles', undefined, key), 401);
      await expectProblem(await call('POST', '/local-ae-titles', { aeTitle: 'NO_AUTH' }, key), 401);
      await expectProblem(await call('DELETE', '/local-ae-titles/CT_ROOM_1', undefined, key), 401);
      expect(await titles()).toEqual(before);
    });
  });

  it('audited every change with the key fingerprint, never the key itself', async () => {
    const entries = (await auditEntries()).filter((entry) => entry.entityType === 'local-ae-title');
    expect(entries.filter((entry) => entry.action === 'local-ae-title.created').length).toBeGreaterThan(5);
    expect(entries.filter((entry) => entry.action === 'local-ae-title.deleted').length).toBeGreaterThan(5);
    for (const entry of entries) {
      expect(entry.actor).toBe(service.actor);
      expect(JSON.stringify(entry)).not.toContain(API_KEY);
    }
  });

  it('documents every operation, field and error in OpenAPI', async () => {
    const document = (await service.apiDocument()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
    };
    const collection = document.paths['/api/v1/local-ae-titles'];
    const single = document.paths['/api/v1/local-ae-titles/{aeTitle}'];
    expect(Object.keys(collection.get.responses)).toEqual(expect.arrayContaining(['200', '400', '401']));
    expect(Object.keys(collection.post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '409']),
    );
    expect(Object.keys(single.delete.responses)).toEqual(
      expect.arrayContaining(['204', '401', '404', '409']),
    );
    expect(collection.post.security).toEqual([{ bearer: [] }]);
    expect(JSON.stringify(single.delete.responses['409'])).toMatch(/application\/problem\+json/);
    const { schemas } = document.components;
    expect(Object.keys(schemas.LocalAeTitleResponse.properties).sort()).toEqual([
      'aeTitle',
      'createdAt',
      'description',
    ]);
    expect(Object.keys(schemas.LocalAeTitlePage.properties).sort()).toEqual([
      'items',
      'limit',
      'offset',
      'total',
    ]);
    expect(schemas.CreateLocalAeTitleRequest.required).toEqual(['aeTitle']);
    expect(Object.keys(schemas.ProblemResponse.properties).sort()).toEqual([
      'detail',
      'status',
      'title',
      'type',
    ]);
  });
});
