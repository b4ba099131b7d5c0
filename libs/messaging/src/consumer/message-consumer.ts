import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Counter, Registry } from 'prom-client';
import {
  Exchanges,
  allContracts,
  type ConsumerQueue,
  type Envelope,
  type MessageContract,
} from '@pacslink/contracts';
import { BrokerConnection } from '../broker-connection';
import { MESSAGING_METRICS_REGISTRY, redeliveryCounter } from '../messaging.metrics';
import { MESSAGING_OPTIONS, type ResolvedMessagingOptions } from '../messaging.options';
import { SpanKind, inSpan, markFailed, messagingAttributes, traceContextOf } from '../trace-context';
import { DEAD_LETTER_REASON_HEADER, deadLetterInfoOf, type DeadLetterInfo } from './dead-letter-info';
import { PermanentMessageError } from './message-errors';
import { topicMatches } from './topic-match';
import { parseEnvelope, validateData } from './validate-envelope';

export interface MessageContext {
  envelope: Envelope;
  /** How many times this message was delivered before (quorum queue `x-delivery-count`). */
  deliveryCount: number;
  /** On a dead-letter watch queue: why the message was dead-lettered, and by whom. */
  deadLetter?: DeadLetterInfo;
  /**
   * Aborted when this consumer stops (the service shuts down): a long handler wraps up at its next
   * safe point so that it ends, and its ack goes out, within the drain time.
   */
  signal: AbortSignal;
  /** On a request (RPC): where its answer goes, for a handler that answers later (answerLater). */
  replyAddress?: ReplyAddress;
}

/** Where a request's answer goes: any channel of any replica can publish it there. */
export interface ReplyAddress {
  replyTo: string;
  correlationId: string;
}

/** A request handler's result meaning "answered later, with MessageConsumer.answerLater". */
export const ANSWER_LATER = Symbol('answer later');

export type MessageHandler<T> = (data: T, context: MessageContext) => Promise<void>;
export type RequestHandler<T, R> = (data: T, context: MessageContext) => Promise<R | typeof ANSWER_LATER>;

/** `code`: the error's own string code when it has one (e.g. EGRESS_REFUSED), for the caller to act on. */
export type RpcReply<R = unknown> = { ok: true; result: R } | { ok: false; error: string; code?: string };

function codeOf(error: unknown): { code?: string } {
  const code: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' ? { code } : {};
}

interface Registration {
  contract: MessageContract<object>;
  handle: (data: object, context: MessageContext, message: ConsumeMessage) => Promise<void>;
}

export { DEAD_LETTER_REASON_HEADER, type DeadLetterInfo };

/** Set by RpcClient: the time (ms since the epoch) after which the caller no longer waits. */
export const REPLY_BY_HEADER = 'x-pacslink-reply-by';
/** Clock skew between hosts tolerated before a request counts as stale. */
const STALE_REQUEST_SLACK_MS = 30_000;

function replyAddressOf(message: ConsumeMessage): ReplyAddress | undefined {
  const { replyTo, correlationId } = message.properties as { replyTo?: string; correlationId?: string };
  return replyTo ? { replyTo, correlationId: correlationId ?? '' } : undefined;
}

function isStaleRequest(message: ConsumeMessage): boolean {
  const replyBy = Number(message.properties.headers?.[REPLY_BY_HEADER]);
  return (
    message.properties.replyTo !== undefined && replyBy > 0 && Date.now() > replyBy + STALE_REQUEST_SLACK_MS
  );
}

/**
 * Consumes this service's queues with manual acks. Each delivery is parsed, checked against its
 * contract, handled, and then acked. A message that cannot be handled ever (malformed, unknown type,
 * invalid data, PermanentMessageError) is re-published to the dead-letter exchange with the reason
 * and acked; a transient failure is rejected (requeue) after a backoff and redelivered until the queue's
 * delivery limit dead-letters it. Never a requeue loop.
 */
@Injectable()
export class MessageConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MessageConsumer.name);
  private readonly registrations = new Map<
    string,
    { queue: ConsumerQueue; byType: Map<string, Registration> }
  >();
  private readonly inFlight = new Set<Promise<void>>();
  private channel?: ChannelWrapper;
  private current?: { channel: ConfirmChannel; consumerTags: string[] };
  private readonly draining = new AbortController();
  private stopped?: { deadline: number; drainMs: number; cancelled: Promise<unknown> };
  private readonly redeliveries?: Counter<'queue'>;

  constructor(
    private readonly connection: BrokerConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions,
    @Optional() @Inject(MESSAGING_METRICS_REGISTRY) registry?: Registry,
  ) {
    this.redeliveries = registry && redeliveryCounter(registry);
  }

  /** Handles a command or event; call before the application bootstraps. */
  on<T extends object>(queue: ConsumerQueue, contract: MessageContract<T>, handler: MessageHandler<T>): void {
    this.register(queue, contract, (data, context) => handler(data as T, context));
  }

  /** Answers a request (RPC); the handler's result or error message goes back to the caller. */
  answer<T extends object, R>(
    queue: ConsumerQueue,
    contract: MessageContract<T>,
    handler: RequestHandler<T, R>,
  ): void {
    this.register(queue, contract, async (data, context, message) => {
      let reply: RpcReply<R>;
      try {
        const result = await handler(data as T, { ...context, replyAddress: replyAddressOf(message) });
        if (result === ANSWER_LATER) return;
        reply = { ok: true, result };
      } catch (error) {
        reply = {
          ok: false,
          error: error instanceof Error ? error.message : String(error),
          ...codeOf(error),
        };
      }
      await this.reply(message, reply);
    });
  }

  /**
   * Refuses to start when a contract routed to one of our queues has no handler, so a message type
   * can never sit unhandled until it dead-letters.
   */
  checkHandlers(contracts: readonly MessageContract<object>[]): void {
    for (const { queue, byType } of this.registrations.values()) {
      if (queue.deadLetterWatch) continue;
      for (const contract of contracts) {
        const routed =
          contract.exchange === queue.exchange &&
          queue.bindingKeys.some((key) => topicMatches(key, contract.type));
        if (routed && !byType.has(contract.type)) {
          throw new Error(
            `queue ${queue.name} receives ${contract.type} but no handler is registered for it`,
          );
        }
      }
    }
  }

  onApplicationBootstrap(): void {
    if (this.registrations.size === 0) return;
    this.checkHandlers(allContracts);
    this.channel = this.connection.createChannel('consumer', async (channel) => {
      await channel.prefetch(this.options.prefetch);
      // A reconnect while draining must not start consuming again.
      if (this.draining.signal.aborted) return;
      const consumerTags: string[] = [];
      for (const { queue } of this.registrations.values()) {
        const { consumerTag } = await channel.consume(queue.name, (message) => {
          if (message) this.track(this.dispatchInSpan(channel, queue, message));
        });
        consumerTags.push(consumerTag);
      }
      this.current = { channel, consumerTags };
    });
  }

  /** Resolves once the consumers are attached (topology declared, consuming). */
  async attached(): Promise<void> {
    await this.channel?.waitForConnect();
  }

  /**
   * Takes no more deliveries (cancels the consumers; the broker keeps what it has not delivered
   * for other replicas) and aborts the handlers' signal. Called at the first SIGTERM, before the
   * application closes, with the service's drain time; idempotent.
   */
  async stopConsuming(drainMs = this.options.drainMs): Promise<void> {
    if (!this.stopped) {
      this.draining.abort();
      const current = this.current;
      const cancelled = current
        ? Promise.allSettled(current.consumerTags.map((tag) => current.channel.cancel(tag)))
        : Promise.resolve([]);
      this.stopped = { deadline: Date.now() + drainMs, drainMs, cancelled };
    }
    await this.stopped.cancelled;
  }

  /**
   * Drains: stops consuming, lets the handlers in flight finish (within the drain time of the
   * stop) so their acks and publishes go out, then closes the channel; anything unfinished is
   * redelivered.
   */
  async onModuleDestroy(): Promise<void> {
    await this.stopConsuming();
    const { deadline, drainMs } = this.stopped ?? { deadline: Date.now(), drainMs: 0 };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    });
    const finished = Promise.allSettled([...this.inFlight]).then(() => true);
    if (!(await Promise.race([finished, timedOut]))) {
      this.logger.warn({
        msg: 'drain time ran out: deliveries still being handled go back to the queue',
        handlers: this.inFlight.size,
        drainMs,
      });
    }
    clearTimeout(timer);
    await this.channel?.close();
  }

  private register(
    queue: ConsumerQueue,
    contract: MessageContract<object>,
    handle: Registration['handle'],
  ): void {
    const routed =
      queue.deadLetterWatch === true ||
      (queue.bindingKeys.some((key) => topicMatches(key, contract.type)) &&
        contract.exchange === queue.exchange);
    if (!routed) {
      throw new Error(`${contract.type} is never routed to queue ${queue.name}`);
    }
    // Only the queues in consumerQueues are declared by this service: consuming another would fail.
    if (!this.options.consumerQueues.some(({ name }) => name === queue.name)) {
      throw new Error(`queue ${queue.name} is consumed but not in MessagingModule's consumerQueues`);
    }
    const entry = this.registrations.get(queue.name) ?? { queue, byType: new Map<string, Registration>() };
    if (entry.byType.has(contract.type)) {
      throw new Error(`two handlers for ${contract.type} on queue ${queue.name}`);
    }
    entry.byType.set(contract.type, { contract, handle });
    this.registrations.set(queue.name, entry);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** One consumer span per delivery, a child of the publisher's span the message names (trace-context.ts). */
  private dispatchInSpan(
    channel: ConfirmChannel,
    queue: ConsumerQueue,
    message: ConsumeMessage,
  ): Promise<void> {
    const messageId = message.properties.messageId as string | undefined;
    const attributes = messagingAttributes('process', queue.name, message.fields.routingKey, messageId);
    const parent = traceContextOf(message.properties.headers);
    return inSpan(`process ${queue.name}`, SpanKind.CONSUMER, attributes, parent, () =>
      this.dispatch(channel, queue, message),
    );
  }

  private async dispatch(
    channel: ConfirmChannel,
    queue: ConsumerQueue,
    message: ConsumeMessage,
  ): Promise<void> {
    if (message.fields.redelivered) this.redeliveries?.inc({ queue: queue.name });
    if (isStaleRequest(message)) {
      // The caller stopped waiting for this answer long ago (RpcClient's reply-by): handling it
      // now would only do work nobody reads. Dropped here rather than expired by the broker, which
      // would dead-letter it into a parking queue (claims pile up there while config-service is away).
      this.logger.debug({
        msg: 'stale request dropped',
        queue: queue.name,
        type: message.properties.type as unknown,
      });
      return this.settle(channel, () => channel.ack(message));
    }
    // A watch queue sees every dead letter of the queues it watches, the malformed and invalid ones
    // too: it handles the types it cares about and lets the rest go (the watched queue's own
    // dead-letter queue keeps the original). Never dead-lettered again from here.
    const letGo = () => this.settle(channel, () => channel.ack(message));
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(message.content);
    } catch (error) {
      if (queue.deadLetterWatch) return letGo();
      return this.deadLetter(channel, queue, message, `malformed message: ${(error as Error).message}`);
    }
    const registration = this.registrations.get(queue.name)?.byType.get(envelope.type);
    if (!registration && queue.deadLetterWatch) return letGo();
    if (!registration)
      return this.deadLetter(channel, queue, message, `no handler for type ${envelope.type}`);
    if (envelope.version !== registration.contract.version) {
      if (queue.deadLetterWatch) return letGo();
      return this.deadLetter(
        channel,
        queue,
        message,
        `${envelope.type} version ${envelope.version} is not supported (expected ${registration.contract.version})`,
      );
    }
    const validated = await validateData(registration.contract, envelope.data);
    if ('problems' in validated) {
      if (queue.deadLetterWatch) return letGo();
      return this.deadLetter(
        channel,
        queue,
        message,
        `invalid ${envelope.type}: ${validated.problems.join('; ')}`,
      );
    }
    const deliveryCount = Number(message.properties.headers?.['x-delivery-count'] ?? 0);
    try {
      const context = {
        envelope,
        deliveryCount,
        deadLetter: queue.deadLetterWatch
          ? deadLetterInfoOf(message.properties.headers, this.options.deliveryLimit)
          : undefined,
        signal: this.draining.signal,
      };
      await registration.handle(validated.data, context, message);
      this.settle(channel, () => channel.ack(message));
    } catch (error) {
      markFailed(trace.getActiveSpan(), error);
      if (error instanceof PermanentMessageError)
        return this.deadLetter(channel, queue, message, error.message);
      this.logger.warn({
        msg: 'handler failed; message will be redelivered',
        queue: queue.name,
        type: envelope.type,
        messageId: envelope.eventId,
        deliveryCount,
        reason: (error as Error).message,
      });
      await this.backoff(deliveryCount);
      // reject, not nack: from RabbitMQ 4.3 only basic.reject counts toward x-delivery-limit.
      this.settle(channel, () => channel.reject(message, true));
    }
  }

  private async deadLetter(
    channel: ConfirmChannel,
    queue: ConsumerQueue,
    message: ConsumeMessage,
    reason: string,
  ): Promise<void> {
    const messageId = message.properties.messageId as string | undefined;
    this.logger.error({ msg: 'message dead-lettered', queue: queue.name, messageId, reason });
    trace.getActiveSpan()?.setAttribute('pacslink.dead_lettered', true);
    await this.reply(message, { ok: false, error: reason }).catch(() => undefined);
    try {
      await new Promise<void>((resolve, reject) =>
        channel.publish(
          Exchanges.DeadLetter,
          queue.name,
          message.content,
          {
            ...message.properties,
            headers: {
              ...message.properties.headers,
              [DEAD_LETTER_REASON_HEADER]: reason,
              'x-pacslink-original-routing-key': message.fields.routingKey,
            },
          },
          (error: unknown) =>
            error ? reject(error instanceof Error ? error : new Error('publish not confirmed')) : resolve(),
        ),
      );
      this.settle(channel, () => channel.ack(message));
    } catch {
      this.settle(channel, () => channel.reject(message, true));
    }
  }

  private async reply(message: ConsumeMessage, reply: RpcReply): Promise<void> {
    const address = replyAddressOf(message);
    if (address) await this.answerLater(address, reply);
  }

  /**
   * Answers a request a handler left with ANSWER_LATER, from wherever the answer is decided (the
   * default exchange routes it to the asker's reply queue). The asker may have stopped waiting:
   * then the answer is dropped, as a late answer always is.
   */
  async answerLater(address: ReplyAddress, reply: RpcReply): Promise<void> {
    if (!this.channel) return;
    await this.channel.sendToQueue(address.replyTo, Buffer.from(JSON.stringify(reply)), {
      correlationId: address.correlationId,
      contentType: 'application/json',
    });
  }

  /** Exponential backoff with full jitter, bounded: 0.2 s, 0.4 s, … at most 10 s. */
  private async backoff(deliveryCount: number): Promise<void> {
    const { signal } = this.draining;
    if (signal.aborted) return;
    const ceiling = Math.min(10_000, 200 * 2 ** deliveryCount);
    // Cut short by a stop: the message goes back at once rather than hold up the drain.
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.random() * ceiling);
      signal.addEventListener('abort', done);
    });
  }

  /** An ack on a channel that has since closed would fail; the broker redelivers that message anyway. */
  private settle(channel: ConfirmChannel, action: () => void): void {
    try {
      action();
    } catch (error) {
      this.logger.warn({
        msg: 'could not settle a delivery; the broker will redeliver it',
        reason: (error as Error).message,
      });
    }
  }
}
