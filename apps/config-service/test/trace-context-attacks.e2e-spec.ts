import { randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  createTestVhost,
  eventually,
  type TestDatabase,
  type TestVhost,
} from '@pacslink/testing';
import { newApiKey } from './config-service.harness';
import { OtlpKind, startOtlpReceiver, type OtlpReceiver } from './otlp-receiver';
import { startServiceProcess, type ServiceProcess } from './service-process.harness';

// An API caller's W3C trace context (docs/security.md, "Wave 2 surfaces"): config-service as a
// process exporting to a test OTLP receiver, sampling nothing of its own (ratio 0). By default a
// caller's `traceparent` (its trace id, its sampled flag) and `baggage` are not continued: it can
// neither make every request exported nor put its spans and log lines into a trace id it chose.
// With OTEL_PROPAGATE_FROM_CLIENTS=true (a trusted gateway in front) they are.
jest.setTimeout(180_000);

describe("a caller's trace context at the public edge", () => {
  let receiver: OtlpReceiver;
  let database: TestDatabase;
  let vhost: TestVhost;
  let untrusting: ServiceProcess;
  let trusting: ServiceProcess;
  const apiKey = newApiKey();
  const marker = `bagmarker${randomBytes(6).toString('hex')}`;

  const contextHeaders = (traceId: string) => ({
    traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    tracestate: `vendor=${marker}`,
    baggage: `patient=${marker},role=admin`,
  });

  const get = (service: ServiceProcess, requestId: string, headers: Record<string, string>) =>
    fetch(`${service.baseUrl}/api/v1/settings`, {
      headers: { authorization: `Bearer ${apiKey}`, 'x-request-id': requestId, ...headers },
    });

  beforeAll(async () => {
    [receiver, database, vhost] = await Promise.all([
      startOtlpReceiver(),
      createTestDatabase(),
      createTestVhost(),
    ]);
    const env = {
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      API_KEYS: apiKey,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    };
    // One after the other: the second finds the schema migrated by the first.
    untrusting = await startServiceProcess('config-service', env);
    trusting = await startServiceProcess('config-service', {
      ...env,
      OTEL_SERVICE_NAME: 'config-service-behind-gateway',
      OTEL_PROPAGATE_FROM_CLIENTS: 'true',
    });
  });

  afterAll(async () => {
    await untrusting?.stop();
    await trusting?.stop();
    await Promise.all([database?.drop(), vhost?.drop(), receiver?.close()]);
  });

  it('by default: no span exported for a sampled traceparent, no log line in its trace id, its baggage nowhere', async () => {
    const chosen = randomBytes(16).toString('hex');
    expect((await get(untrusting, 'rq-untrusted', contextHeaders(chosen))).status).toBe(200);
    // The same request to the trusting process: once its span is in, the other's would be too.
    const trustedId = randomBytes(16).toString('hex');
    expect((await get(trusting, 'rq-trusted', contextHeaders(trustedId))).status).toBe(200);
    await eventually('the trusting process to export its span', () =>
      receiver.spans.find((span) => span.traceId === trustedId),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(receiver.spans.filter((span) => span.service === 'config-service')).toEqual([]);
    expect(receiver.spans.filter((span) => span.traceId === chosen)).toEqual([]);
    const lines = untrusting.logs.filter((line) => line.request_id === 'rq-untrusted');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.trace_id === chosen)).toEqual([]);
    expect(JSON.stringify(untrusting.logs)).not.toContain(marker);
  });

  it('with OTEL_PROPAGATE_FROM_CLIENTS=true: the request continues the caller’s trace', async () => {
    const traceId = randomBytes(16).toString('hex');
    const headers = contextHeaders(traceId);
    expect((await get(trusting, 'rq-trusted-2', headers)).status).toBe(200);
    const server = await eventually('the server span', () =>
      receiver.spans.find((span) => span.traceId === traceId && span.kind === OtlpKind.Server),
    );
    expect(server.service).toBe('config-service-behind-gateway');
    expect(server.parentSpanId).toBe(headers.traceparent.split('-')[2]);
    expect(
      trusting.logs.some((line) => line.request_id === 'rq-trusted-2' && line.trace_id === traceId),
    ).toBe(true);
  });
});
