import type { TestingModule } from '@nestjs/testing';
import { SpanKind, context, propagation, trace, type SpanContext } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-node';
import { DataSource } from 'typeorm';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@pacslink/testing';
import { ConfirmedPublisher, MessageConsumer, Outbox, OutboxMessage, createEnvelope } from '../src';
import { Ping, TestQueue, createReplica, waitFor } from './messaging-harness';

// The trace context travels with the message (traceparent in the AMQP headers, and through the
// outbox in its row): publish and consume over a real RabbitMQ, the spans in an in-memory exporter.
describe('trace context through the outbox and RabbitMQ (real Postgres, real RabbitMQ)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let database: TestDatabase;
  let vhost: TestVhost;
  let replica: TestingModule;
  /** What each handler run saw as its active span, by the ping's text. */
  const seen = new Map<string, SpanContext | undefined>();

  beforeAll(async () => {
    provider.register();
    [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    replica = await createReplica({ amqpUrl: vhost.url, databaseUrl: database.url });
    const consumer = replica.get(MessageConsumer);
    consumer.on(TestQueue, Ping, (data) => {
      seen.set(data.text, trace.getActiveSpan()?.spanContext());
      return Promise.resolve();
    });
    await replica.init();
    await consumer.attached();
  });

  afterAll(async () => {
    await replica.close();
    await Promise.all([database.drop(), vhost.drop()]);
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  const spans = (traceId: string) =>
    exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
  const only = (list: ReadableSpan[], kind: SpanKind) => {
    const found = list.filter((span) => span.kind === kind);
    expect(found).toHaveLength(1);
    return found[0];
  };

  it('outbox: the relay publishes in the enqueuing transaction’s trace, the handler runs in a consumer span under the publish', async () => {
    const tracer = trace.getTracer('test');
    const request = tracer.startSpan('POST /transfers', { kind: SpanKind.SERVER });
    const { traceId, spanId } = request.spanContext();
    const dataSource = replica.get(DataSource);
    const envelope = await context.with(trace.setSpan(context.active(), request), () =>
      dataSource.transaction((manager) =>
        replica.get(Outbox).enqueue(manager, Ping, { text: 'outbox', sequence: 1 }),
      ),
    );
    request.end();
    const row = await dataSource.getRepository(OutboxMessage).findOneByOrFail({ id: envelope.eventId });
    expect(row.traceContext?.traceparent).toContain(traceId);

    await waitFor(() => seen.has('outbox') && spans(traceId).length >= 3, 10_000, 'the consumer span');
    const publish = only(spans(traceId), SpanKind.PRODUCER);
    const consume = only(spans(traceId), SpanKind.CONSUMER);
    expect(parentOf(publish)).toBe(spanId);
    expect(publish.name).toBe('publish pacslink.commands');
    expect(publish.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'pacslink.commands',
      'messaging.rabbitmq.destination.routing_key': 'test.ping',
      'messaging.message.id': envelope.eventId,
    });
    expect(parentOf(consume)).toBe(publish.spanContext().spanId);
    expect(consume.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': TestQueue.name,
    });
    expect(seen.get('outbox')).toMatchObject({ traceId, spanId: consume.spanContext().spanId });
  });

  it('direct publish: the consumer span is a child of the publisher’s span, in the caller’s trace', async () => {
    const tracer = trace.getTracer('test');
    const traceId = await tracer.startActiveSpan('batch', async (batch) => {
      await replica
        .get(ConfirmedPublisher)
        .publish(Ping.exchange, createEnvelope(Ping, { text: 'direct', sequence: 2 }));
      batch.end();
      return batch.spanContext().traceId;
    });
    await waitFor(() => seen.has('direct') && spans(traceId).length >= 3, 10_000, 'the consumer span');
    const publish = only(spans(traceId), SpanKind.PRODUCER);
    const consume = only(spans(traceId), SpanKind.CONSUMER);
    expect(parentOf(consume)).toBe(publish.spanContext().spanId);
    expect(seen.get('direct')?.traceId).toBe(traceId);
  });
});
