import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import { Exchanges, type Envelope } from '@pacslink/contracts';
import { BrokerConnection, topicMatches } from '@pacslink/messaging';
import { ServiceShutdown } from '@pacslink/platform';

export interface EventSubscriber {
  /** AMQP topic patterns (`transfer.*`, `#`) the subscriber wants. */
  patterns: readonly string[];
  deliver(envelope: Envelope, raw: string): void;
  /** The service is shutting down: end the stream (the client reconnects, to another replica). */
  end(): void;
}

/**
 * The public events, fanned out in this process to Server-Sent Events clients. One exclusive,
 * auto-deleted queue per config-service replica, bound to everything on pacslink.events and opened
 * on the first subscriber: best effort by design (a client that is not connected misses events;
 * a subscriber that must not miss one binds its own durable queue on RabbitMQ). A stream never
 * ends by itself, and the HTTP server waits for every open response before it closes: so every
 * stream is ended at the first SIGTERM, and none is opened after it.
 */
@Injectable()
export class EventStream implements OnModuleDestroy {
  private readonly logger = new Logger(EventStream.name);
  private readonly subscribers = new Set<EventSubscriber>();
  private channel?: ChannelWrapper;

  constructor(
    private readonly connection: BrokerConnection,
    private readonly shutdown: ServiceShutdown,
  ) {
    shutdown.signal.addEventListener('abort', () => this.endAll(), { once: true });
  }

  /** Whether a new stream may start (not while the service is shutting down). */
  get open(): boolean {
    return !this.shutdown.draining;
  }

  async subscribe(subscriber: EventSubscriber): Promise<() => void> {
    this.subscribers.add(subscriber);
    this.channel ??= this.connection.createChannel('event-stream', async (channel) => {
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      await channel.bindQueue(queue, Exchanges.Events, '#');
      await channel.consume(queue, (message) => message && this.fanOut(message.content.toString('utf8')), {
        noAck: true,
      });
    });
    await this.channel.waitForConnect();
    return () => this.subscribers.delete(subscriber);
  }

  async onModuleDestroy(): Promise<void> {
    this.endAll();
    await this.channel?.close();
  }

  private endAll(): void {
    for (const subscriber of this.subscribers) subscriber.end();
    this.subscribers.clear();
  }

  private fanOut(raw: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch {
      this.logger.warn({ msg: 'an event on pacslink.events is not JSON; not streamed' });
      return;
    }
    for (const subscriber of this.subscribers) {
      if (subscriber.patterns.some((pattern) => topicMatches(pattern, envelope.type))) {
        subscriber.deliver(envelope, raw);
      }
    }
  }
}
