import {
  expectFieldError,
  expectProblem,
  startConfigService,
  type RunningConfigService,
} from './config-service.harness';

describe('settings (GET/PUT /api/v1/settings)', () => {
  let service: RunningConfigService;

  beforeAll(async () => {
    service = await startConfigService();
  });

  afterAll(() => service?.stop());

  const call: RunningConfigService['call'] = (...args) => service.call(...args);

  const putSettings = (body: unknown) => call('PUT', '/settings', body);

  async function getSettings(): Promise<unknown> {
    const response = await call('GET', '/settings');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return response.json();
  }

  const auditEntries = () => service.auditEntries();

  async function createLocalAeTitle(aeTitle: string): Promise<void> {
    expect((await call('POST', '/local-ae-titles', { aeTitle })).status).toBe(201);
  }

  it('starts with transfers off and PACSLINK, a local AE title, as the default calling AE title', async () => {
    expect(await getSettings()).toEqual({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    const titles = (await (await call('GET', '/local-ae-titles')).json()) as { items: { aeTitle: string }[] };
    expect(titles.items.map((item) => item.aeTitle)).toContain('PACSLINK');
  });

  it('accepts the defaults back unchanged, and a no-op PUT writes no audit entry', async () => {
    const before = await auditEntries();
    const response = await putSettings({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    expect(await auditEntries()).toHaveLength(before.length);
  });

  it('stores a PUT and answers it, and audits the change with the caller as actor', async () => {
    await createLocalAeTitle('Viewer_1');
    const response = await putSettings({ allowTransfer: true, defaultCallingAeTitle: 'Viewer_1' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ allowTransfer: true, defaultCallingAeTitle: 'Viewer_1' });
    expect(await getSettings()).toEqual({ allowTransfer: true, defaultCallingAeTitle: 'Viewer_1' });

    const [latest] = await auditEntries();
    expect(latest).toMatchObject({
      actor: service.actor,
      action: 'settings.updated',
      entityType: 'settings',
      change: {
        before: { allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' },
        after: { allowTransfer: true, defaultCallingAeTitle: 'Viewer_1' },
      },
    });
  });

  it('matches defaultCallingAeTitle case-insensitively after trimming, storing the local title as spelled', async () => {
    await createLocalAeTitle('Reading Room');
    const response = await putSettings({ allowTransfer: true, defaultCallingAeTitle: '  READING room ' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ allowTransfer: true, defaultCallingAeTitle: 'Reading Room' });
    expect(await getSettings()).toEqual({ allowTransfer: true, defaultCallingAeTitle: 'Reading Room' });
    const [latest] = await auditEntries();
    expect(latest).toMatchObject({
      action: 'settings.updated',
      change: { after: { allowTransfer: true, defaultCallingAeTitle: 'Reading Room' } },
    });
  });

  it('switches transfers off again', async () => {
    const response = await putSettings({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    expect(response.status).toBe(200);
    expect(await getSettings()).toEqual({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
  });

  describe('refuses, with 400 naming the field, and changes nothing', () => {
    let auditBefore: number;
    beforeEach(async () => {
      auditBefore = (await auditEntries()).length;
    });
    afterEach(async () => {
      expect(await getSettings()).toEqual({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
      expect(await auditEntries()).toHaveLength(auditBefore);
    });

    it.each([
      ['the string "true"', 'true'],
      ['the string "false"', 'false'],
      ['the number 1', 1],
      ['null', null],
    ])('allowTransfer as %s', async (_, allowTransfer) => {
      await expectFieldError(
        await putSettings({ allowTransfer, defaultCallingAeTitle: 'PACSLINK' }),
        'allowTransfer',
      );
    });

    it('an unknown field', async () => {
      const problem = await expectFieldError(
        await putSettings({ allowTransfer: true, defaultCallingAeTitle: 'PACSLINK', colour: 'blue' }),
        'colour',
      );
      expect(problem.detail).toMatch(/colour/);
    });

    it('a missing allowTransfer', async () => {
      await expectFieldError(await putSettings({ defaultCallingAeTitle: 'PACSLINK' }), 'allowTransfer');
    });

    it('a missing defaultCallingAeTitle', async () => {
      await expectFieldError(await putSettings({ allowTransfer: true }), 'defaultCallingAeTitle');
    });

    it('an empty body', async () => {
      const problem = await expectFieldError(await putSettings({}), 'allowTransfer');
      expect(problem.errors?.map((error) => error.field)).toContain('defaultCallingAeTitle');
    });

    it('a defaultCallingAeTitle that is not a local AE title, listing those that are', async () => {
      const problem = await expectFieldError(
        await putSettings({ allowTransfer: true, defaultCallingAeTitle: 'NOT_LOCAL' }),
        'defaultCallingAeTitle',
      );
      expect(problem.detail).toMatch(/"NOT_LOCAL" is not a local AE title/);
      expect(problem.detail).toMatch(/"PACSLINK"/);
      expect(problem.detail).toMatch(/"Reading Room"/);
      expect(problem.detail).toMatch(/"Viewer_1"/);
    });

    it.each([
      ['empty', ''],
      ['all spaces', '    '],
      ['17 characters', 'ABCDEFGHIJKLMNOPQ'],
      ['a backslash', 'PACS\\LINK'],
      ['a tab', 'PACS\tLINK'],
      ['non-ASCII letters', 'ÄRZTE'],
      ['a number', 42],
    ])('a defaultCallingAeTitle that is not a valid AE title: %s', async (_, defaultCallingAeTitle) => {
      await expectFieldError(
        await putSettings({ allowTransfer: true, defaultCallingAeTitle }),
        'defaultCallingAeTitle',
      );
    });

    it('a JSON array instead of an object', async () => {
      expect((await putSettings([{ allowTransfer: true, defaultCallingAeTitle: 'PACSLINK' }])).status).toBe(
        400,
      );
    });
  });

  it('never leaves the default pointing at a deleted local AE title when a PUT and a DELETE race', async () => {
    for (let round = 0; round < 5; round++) {
      const title = `RACE_${round}`;
      await createLocalAeTitle(title);
      const [put, del] = await Promise.all([
        putSettings({ allowTransfer: false, defaultCallingAeTitle: title }),
        call('DELETE', `/local-ae-titles/${title}`),
      ]);
      const settings = (await getSettings()) as { defaultCallingAeTitle: string };
      const titles = (await (await call('GET', '/local-ae-titles?limit=500')).json()) as {
        items: { aeTitle: string }[];
      };
      expect(titles.items.map((item) => item.aeTitle)).toContain(settings.defaultCallingAeTitle);
      if (put.status === 200) {
        // The PUT won: the title is the default and cannot be deleted.
        expect(del.status).toBe(409);
        expect(settings.defaultCallingAeTitle).toBe(title);
        await expectProblem(del, 409);
      } else {
        expect(del.status).toBe(204);
        await expectFieldError(put, 'defaultCallingAeTitle');
      }
      expect((await putSettings({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' })).status).toBe(
        200,
      );
    }
  });

  describe('authentication', () => {
    it.each([
      ['no Authorization header', null, 'authentication required'],
      ['a wrong API key', 'not-the-key', 'authentication failed'],
    ])('answers 401 problem+json to %s', async (_, key, title) => {
      for (const [method, body] of [
        ['GET', undefined],
        ['PUT', { allowTransfer: true, defaultCallingAeTitle: 'PACSLINK' }],
      ] as const) {
        const problem = await expectProblem(await call(method, '/settings', body, key), 401);
        expect(problem.title).toBe(title);
      }
      expect(await getSettings()).toEqual({ allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    });

    it('answers 401 to a header that is not "Bearer <key>"', async () => {
      const response = await fetch(`${service.baseUrl}/api/v1/settings`, {
        headers: { authorization: `Basic ${Buffer.from(`x:${service.apiKey}`).toString('base64')}` },
      });
      await expectProblem(response, 401);
    });
  });

  it('audits every settings change with the key fingerprint, never the key', async () => {
    const entries = (await auditEntries()).filter((entry) => entry.action === 'settings.updated');
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const entry of entries) {
      expect(entry.actor).toBe(service.actor);
      expect(JSON.stringify(entry)).not.toContain(service.apiKey);
    }
  });

  it('documents GET and PUT /settings, every field and every error, in OpenAPI', async () => {
    const document = (await service.apiDocument()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
    };
    const path = document.paths['/api/v1/settings'];
    expect(Object.keys(path.get.responses)).toEqual(expect.arrayContaining(['200', '401']));
    expect(Object.keys(path.put.responses)).toEqual(expect.arrayContaining(['200', '400', '401']));
    expect(path.put.security).toEqual([{ bearer: [] }]);
    expect(JSON.stringify(path.put.responses['400'])).toMatch(/application\/problem\+json/);
    const { schemas } = document.components;
    expect(Object.keys(schemas.SettingsResponse.properties).sort()).toEqual([
      'allowTransfer',
      'defaultCallingAeTitle',
    ]);
    expect(schemas.UpdateSettingsRequest.required?.sort()).toEqual([
      'allowTransfer',
      'defaultCallingAeTitle',
    ]);
    expect(Object.keys(schemas.ValidationProblemResponse.properties)).toContain('errors');
  });
});
