import { ConsumerQueues } from '@pacslink/contracts';
import type { INestApplication } from '@nestjs/common';
import { loadEnv, runService } from '@pacslink/platform';
import { baseUrlOf, waitUntilReady, createTestVhost, type TestVhost } from '@pacslink/testing';
import { AppModule } from '../src/app.module';
import { DICOMWEB_WORKER, DicomwebWorkerEnv } from '../src/config';

describe('dicomweb-worker boots against real RabbitMQ, without a database', () => {
  let vhost: TestVhost;
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    vhost = await createTestVhost();
    const env = loadEnv(DicomwebWorkerEnv, { AMQP_URL: vhost.url, LOG_LEVEL: 'silent' });
    app = await runService(AppModule.forRoot(env), { service: DICOMWEB_WORKER, port: 0 });
    baseUrl = baseUrlOf(app);
  });

  afterAll(async () => {
    await app?.close();
    await vhost.drop();
  });

  it('is ready once its broker connection is up, with no database check', async () => {
    const ready = await waitUntilReady(baseUrl);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual(
      expect.objectContaining({ details: { shutdown: { status: 'up' }, broker: { status: 'up' } } }),
    );
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
    expect(await (await fetch(`${baseUrl}/metrics`)).text()).toContain('service="dicomweb-worker"');
  });

  it('declared its command queue as a quorum queue with a dead-letter queue', async () => {
    const queue = await vhost.management.queue(vhost.name, ConsumerQueues.DicomwebWorkerCommands.name);
    expect(queue.arguments).toMatchObject({ 'x-queue-type': 'quorum', 'x-delivery-limit': 5 });
    await expect(
      vhost.management.queue(vhost.name, `${ConsumerQueues.DicomwebWorkerCommands.name}.dead-letter`),
    ).resolves.toBeDefined();
  });
});
