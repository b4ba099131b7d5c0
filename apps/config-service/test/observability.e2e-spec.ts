import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TcpProxy,
  createTestDatabase,
  createTestVhost,
  eventually,
  generateStudy,
  uploadToStudyStore,
  type GeneratedStudy,
} from '@pacslink/testing';
import { newApiKey, startConfigService, type RunningConfigService } from './config-service.harness';
import { startServiceProcess, type ServiceProcess } from './service-process.harness';

// Issue 14's observability: the transfer gauges and the HTTP histogram at /metrics (config-service
// in process, no worker: the commands wait in the worker's queue), a scrape during a database
// outage, and request ids and UID-free access logs (config-service as a process, its JSON lines).
jest.setTimeout(180_000);

/** Every sample of `name` at /metrics: its labels (without `service`) and value. */
async function samples(
  baseUrl: string,
  name: string,
): Promise<{ labels: Record<string, string>; value: number }[]> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const found: { labels: Record<string, string>; value: number }[] = [];
  for (const [, body, value] of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const labels: Record<string, string> = {};
    for (const [, key, label] of body.matchAll(/(\w+)="([^"]*)"/g)) labels[key] = label;
    expect(labels.service).toBe('config-service');
    delete labels.service;
    found.push({ labels, value: Number(value) });
  }
  return found;
}

describe('metrics of config-service (real Postgres and RabbitMQ)', () => {
  let service: RunningConfigService;
  let databaseLink: TcpProxy;
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-observability-e2e-'));
    service = await startConfigService({
      env: { STORE_DIR: join(workDir, 'store') },
      // Postgres behind a proxy of the test's own, to cut it during a scrape.
      beforeBoot: async ({ database }) => {
        const url = new URL(database.url);
        databaseLink = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
        url.port = String(databaseLink.port);
        return { DATABASE_URL: url.toString() };
      },
    });
    const settings = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(settings.status).toBe(200);
  });

  afterAll(async () => {
    await databaseLink?.restore();
    await service?.stop();
    await databaseLink?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function storedStudy(): Promise<GeneratedStudy> {
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 2 });
    expect((await uploadToStudyStore(service.baseUrl, service.apiKey, study.files)).status).toBe(200);
    return study;
  }

  it('shows the backlog by batch state and the transfers by state, direction, method and PACS id', async () => {
    // One association at a time: the first transfer's batch goes out, the second's waits (pending).
    const pacsConfigId = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'NOBODY',
      name: 'No worker answers for it',
      host: '127.0.0.1',
      port: 4242,
      cStore: true,
      maxAssociations: 1,
    });
    const transferIds: string[] = [];
    for (const study of [await storedStudy(), await storedStudy()]) {
      const response = await service.call('POST', '/transfers', {
        direction: 'export',
        pacsConfigId,
        studyInstanceUid: study.studyInstanceUid,
      });
      expect(response.status).toBe(202);
      transferIds.push(((await response.json()) as { id: string }).id);
    }

    // One slot: one batch for it and, since the hand-over (ADR 0006), one more dispatched ahead.
    const batches = await eventually('both batches dispatched', async () => {
      const found = await samples(service.baseUrl, 'pacslink_transfer_batches');
      return found.some(({ labels, value }) => labels.state === 'dispatched' && value === 2)
        ? found
        : undefined;
    });
    expect(batches).toEqual([{ labels: { state: 'dispatched', pacs_config: pacsConfigId }, value: 2 }]);
    const transfers = await samples(service.baseUrl, 'pacslink_transfers');
    expect(transfers).toEqual([
      {
        labels: { state: 'queued', direction: 'export', method: 'C-STORE', pacs_config: pacsConfigId },
        value: 2,
      },
    ]);

    // A cancelled transfer counts as cancelled (finished within the hour), its batch no longer open.
    expect((await service.call('POST', `/transfers/${transferIds[1]}/cancel`)).status).toBe(200);
    expect(await samples(service.baseUrl, 'pacslink_transfers')).toEqual(
      expect.arrayContaining([
        {
          labels: { state: 'queued', direction: 'export', method: 'C-STORE', pacs_config: pacsConfigId },
          value: 1,
        },
        {
          labels: { state: 'cancelled', direction: 'export', method: 'C-STORE', pacs_config: pacsConfigId },
          value: 1,
        },
      ]),
    );
    expect(await samples(service.baseUrl, 'pacslink_transfer_batches')).toEqual([
      { labels: { state: 'dispatched', pacs_config: pacsConfigId }, value: 1 },
    ]);
  });

  it('counts HTTP requests by route template, never by the URL with its ids', async () => {
    const pacsConfigId = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'ROUTE_TEST',
      name: 'For the route label',
      host: '127.0.0.1',
      port: 4243,
      cStore: true,
    });
    expect((await service.call('GET', `/pacs-configs/${pacsConfigId}`)).status).toBe(200);
    expect((await service.call('GET', '/no-such-route/1.2.840.10008.1')).status).toBe(404);
    const requests = await samples(service.baseUrl, 'pacslink_http_request_duration_seconds_count');
    expect(requests).toContainEqual({
      labels: { method: 'GET', route: '/api/v1/pacs-configs/:id', status: '200' },
      value: 1,
    });
    expect(requests).toContainEqual({
      labels: { method: 'GET', route: 'unmatched', status: '404' },
      value: 1,
    });
    const routes = requests.map(({ labels }) => labels.route).join(' ');
    expect(routes).not.toContain(pacsConfigId);
    expect(routes).not.toContain('1.2.840');
  });

  it('still answers a scrape while the database is down, without the gauges read from it', async () => {
    const before = await (await fetch(`${service.baseUrl}/metrics`)).text();
    expect(before).toMatch(/^pacslink_outbox_messages\{service="config-service"\} \d+$/m);
    expect(before).toMatch(/^pacslink_outbox_oldest_age_seconds\{service="config-service"\} \S+$/m);
    await databaseLink.cut();
    try {
      const started = Date.now();
      const response = await fetch(`${service.baseUrl}/metrics`);
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5_000);
      const text = await response.text();
      expect(text).toMatch(/^process_cpu_user_seconds_total\{/m);
      for (const gauge of ['pacslink_transfer_batches', 'pacslink_transfers', 'pacslink_outbox_messages'])
        expect(text).not.toMatch(new RegExp(`^${gauge}[{ ]`, 'm'));
    } finally {
      await databaseLink.restore();
    }
    await eventually('the gauges back', async () =>
      (await samples(service.baseUrl, 'pacslink_transfers')).length > 0 ? true : undefined,
    );
  });
});

describe('request logs of config-service (as a process, JSON lines)', () => {
  const apiKey = newApiKey();
  let running: ServiceProcess;
  let workDir: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-request-logs-e2e-'));
    const [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    drop = async () => {
      await Promise.all([database.drop(), vhost.drop()]);
    };
    running = await startServiceProcess('config-service', {
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      API_KEYS: apiKey,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      STORE_DIR: join(workDir, 'store'),
    });
  });

  afterAll(async () => {
    await running?.stop();
    await drop?.();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${running.baseUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}`, ...headers } });
  }

  it('gives every line of a request its id (the caller’s when sane) and its level as a word, and echoes it', async () => {
    const response = await get('/api/v1/settings', { 'x-request-id': 'rq-0001.abc:def' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('rq-0001.abc:def');
    const lines = await eventually('the access log line', () => {
      const found = running.logs.filter((line) => line.request_id === 'rq-0001.abc:def');
      return found.length > 0 ? found : undefined;
    });
    for (const line of lines) expect(line.level).toBe('info');
    // One access log line per request (pino-http ahead of everything, nestjs-pino only binding it).
    expect(lines.filter((line) => line.res !== undefined)).toHaveLength(1);
    expect(lines.at(-1)).toMatchObject({ route: '/api/v1/settings', res: { statusCode: 200 } });

    // Spaces, a list, markup, an escaped non-ASCII value, too long: a new id instead.
    for (const insane of ['two words', 'a,b', '<script>', '%C3%BCnicode', 'x'.repeat(129)]) {
      const id = (await get('/api/v1/settings', { 'x-request-id': insane })).headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    const generated = (await get('/api/v1/settings')).headers.get('x-request-id') ?? '';
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs a request refused before routing with its id, and without the UID of its path', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.98765432109876543210';
    const response = await fetch(`${running.baseUrl}/api/v1/studies/${uid}`, {
      headers: { 'x-request-id': 'rq-refused' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-request-id')).toBe('rq-refused');
    const lines = await eventually('the refusal and its access log line', () => {
      const found = running.logs.filter((line) => line.request_id === 'rq-refused');
      return found.some((line) => line.res !== undefined) ? found : undefined;
    });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'request refused', path: '/api/v1/studies/{uid}' }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ res: expect.objectContaining({ statusCode: 401 }) as unknown }),
    );
    expect(running.logs.map((line) => JSON.stringify(line)).join('\n')).not.toContain(uid);
  });

  it('keeps Study UIDs out of the access log of a study request', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.12345678901234567890';
    const response = await get(`/api/v1/studies/${uid}?studyInstanceUid=${uid}`, {
      'x-request-id': 'rq-uid-test',
    });
    expect(response.status).toBe(404);
    const access = await eventually('the access log line', () =>
      running.logs.find((line) => line.request_id === 'rq-uid-test' && line.res !== undefined),
    );
    expect(access).toMatchObject({
      level: 'info',
      route: '/api/v1/studies/:studyInstanceUid',
      req: { url: '/api/v1/studies/{uid}?studyInstanceUid={uid}' },
    });
    const everything = running.logs.map((line) => JSON.stringify(line)).join('\n');
    expect(everything).not.toContain(uid);
  });
});
