import { Client } from 'pg';
import { TcpProxy, amqpUrlFor, waitUntilReady } from '@pacslink/testing';
import { startConfigService, type RunningConfigService } from './config-service.harness';

describe('config-service boots against real Postgres and RabbitMQ', () => {
  let service: RunningConfigService;
  let proxy: TcpProxy;
  let baseUrl: string;

  beforeAll(async () => {
    service = await startConfigService({
      // A database that does not exist yet: the service creates and migrates it.
      database: 'fresh',
      apiKeys: null,
      env: { SECRETS_KEY: undefined },
      // RabbitMQ behind a proxy of the test's own, to cut the network to it.
      beforeBoot: async ({ vhost }) => {
        const broker = new URL(vhost.url);
        proxy = await new TcpProxy(broker.hostname, Number(broker.port || 5672)).start();
        const proxied = new URL(vhost.url);
        proxied.port = String(proxy.port);
        return { AMQP_URL: amqpUrlFor(proxied.toString(), vhost.name) };
      },
    });
    baseUrl = service.baseUrl;
  });

  afterAll(async () => {
    await service?.stop();
    await proxy?.close();
  });

  it('created its database, which did not exist, and migrated its schema', async () => {
    const client = new Client({ connectionString: service.database.url });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'config' ORDER BY table_name`,
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual([
        'audit_entry',
        'event_ticket',
        'inbox_message',
        'local_ae_title',
        'migrations',
        'outbox_message',
        'pacs_circuit',
        'pacs_config',
        'settings',
        'stored_instance',
        'stored_study',
        'transfer',
        'transfer_batch',
        'transfer_instance',
      ]);
    } finally {
      await client.end();
    }
  });

  it('is live, and ready with its database and broker up', async () => {
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
    const ready = await waitUntilReady(baseUrl);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      details: { broker: { status: 'up' }, database: { status: 'up' } },
    });
  });

  it('serves Prometheus metrics labelled with the service', async () => {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    const text = await response.text();
    // Node's default process metrics under their standard names, as the usual dashboards read them.
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="config-service"\}/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes\{service="config-service"\}/m);
    expect(text).not.toMatch(/^pacslink_process_/m);
  });

  it('serves its OpenAPI document and UI', async () => {
    const document = (await (await fetch(`${baseUrl}/api/docs-json`)).json()) as { openapi: string };
    expect(document.openapi).toMatch(/^3\./);
    expect((await fetch(`${baseUrl}/api/docs`)).status).toBe(200);
  });

  it('answers an unknown path with problem+json', async () => {
    const response = await fetch(`${baseUrl}/api/v1/no-such-thing`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toEqual({
      type: 'about:blank',
      title: 'not found',
      status: 404,
      detail: 'Cannot GET /api/v1/no-such-thing',
    });
  });

  it('is not ready while the broker is unreachable, and ready again once it is back', async () => {
    await proxy.cut();
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i++) {
      status = (await fetch(`${baseUrl}/health/ready`)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(503);
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);

    await proxy.restore();
    expect((await waitUntilReady(baseUrl)).status).toBe(200);
  });
});
