import type { INestApplication } from '@nestjs/common';
import { loadEnv, runService } from '@pacslink/platform';
import {
  baseUrlOf,
  waitUntilReady,
  createTestDatabase,
  createTestVhost,
  type TestDatabase,
  type TestVhost,
} from '@pacslink/testing';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { MWL_MPPS_SERVICE, MwlMppsEnv } from '../src/config';

describe('mwl-mpps-service boots against real Postgres and RabbitMQ', () => {
  let database: TestDatabase;
  let vhost: TestVhost;
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const env = loadEnv(MwlMppsEnv, { DATABASE_URL: database.url, AMQP_URL: vhost.url, LOG_LEVEL: 'silent' });
    app = await runService(AppModule.forRoot(env), { service: MWL_MPPS_SERVICE, port: 0 });
    baseUrl = baseUrlOf(app);
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([database.drop(), vhost.drop()]);
  });

  it('is ready with its database and broker up', async () => {
    const ready = await waitUntilReady(baseUrl);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      details: { broker: { status: 'up' }, database: { status: 'up' } },
    });
  });

  it('serves its outbox backlog, its HTTP requests by route and the standard process metrics', async () => {
    await fetch(`${baseUrl}/health/live`);
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(text).toMatch(/^pacslink_outbox_messages\{service="mwl-mpps-service"\} 0$/m);
    expect(text).toMatch(/^pacslink_outbox_oldest_age_seconds\{service="mwl-mpps-service"\} 0$/m);
    // prom-client puts the default label (service) first or last depending on the metric type.
    const liveness = text
      .split('\n')
      .filter((line) => line.startsWith('pacslink_http_request_duration_seconds_count{'))
      .filter((line) => line.includes('route="/health/live"') && line.includes('status="200"'));
    expect(liveness).toHaveLength(1);
    expect(liveness[0]).toContain('service="mwl-mpps-service"');
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="mwl-mpps-service"\} /m);
  });

  it('works in its own schema, which the template already migrated (nothing left to apply)', async () => {
    const rows = await app
      .get(DataSource)
      .query<{ schema: string; name: string }[]>(
        `SELECT current_schema() AS schema, name FROM mwl.migrations`,
      );
    expect(rows).toEqual([
      { schema: 'mwl', name: 'CreateOutboxAndInbox1764190000000' },
      { schema: 'mwl', name: 'CreateWorklistTasks1765000000000' },
      { schema: 'mwl', name: 'AddTaskMpps1765100000000' },
      { schema: 'mwl', name: 'AddOutboxTraceContext1765200000000' },
    ]);
  });
});
