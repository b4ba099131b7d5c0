import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Envelope } from '@pacslink/contracts';
import { BrokerConnection } from './broker-connection';
import { MESSAGING_OPTIONS, type ResolvedMessagingOptions } from './messaging.options';
import { SpanKind, inSpan, messagingAttributes, traceHeaders } from './trace-context';

export interface PublishOptions {
  /** Overrides the default confirm timeout. */
  timeoutMs?: number;
  headers?: Record<string, string | number>;
}

/**
 * Publishes persistent messages and resolves only once the broker confirms them. A broker that
 * silently stops answering cannot hang a publish: it is rejected after the timeout (amqplib alone
 * would wait until the heartbeat notices a dead connection, or forever on a live but stuck one).
 */
@Injectable()
export class ConfirmedPublisher implements BeforeApplicationShutdown {
  private readonly channel: ChannelWrapper;

  constructor(
    connection: BrokerConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions,
  ) {
    this.channel = connection.createChannel('publisher');
  }

  /**
   * In a producer span (until the broker confirms) under the active context, whose trace context
   * the message carries: the consumer's span continues this trace.
   */
  async publish(exchange: string, envelope: Envelope, options: PublishOptions = {}): Promise<void> {
    const attributes = messagingAttributes('publish', exchange, envelope.type, envelope.eventId);
    await inSpan(`publish ${exchange}`, SpanKind.PRODUCER, attributes, context.active(), () =>
      this.channel.publish(exchange, envelope.type, Buffer.from(JSON.stringify(envelope)), {
        messageId: envelope.eventId,
        type: envelope.type,
        contentType: 'application/json',
        persistent: true,
        timestamp: Math.floor(Date.parse(envelope.occurredAt) / 1000),
        headers: {
          'x-contract-version': envelope.version,
          ...options.headers,
          ...traceHeaders(),
        },
        timeout: options.timeoutMs ?? this.options.publishTimeoutMs,
      }),
    );
  }

  /** After onModuleDestroy, where consumers and the outbox relay finish what they still publish. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.channel.close();
  }
}
