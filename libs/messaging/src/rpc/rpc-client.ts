import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import { randomUUID } from 'node:crypto';
import type { MessageContract } from '@pacslink/contracts';
import { BrokerConnection } from '../broker-connection';
import { REPLY_BY_HEADER, type RpcReply } from '../consumer/message-consumer';
import { createEnvelope } from '../envelope';
import { traceHeaders } from '../trace-context';

/** RabbitMQ's direct reply-to pseudo-queue: replies come back on the channel that asked. */
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeoutError';
}

/** The handler's failure, in its words; `code` is the error's own code when it had one. */
export class RpcRemoteError extends Error {
  override readonly name = 'RpcRemoteError';

  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface Pending {
  settle: (reply: RpcReply) => void;
  timer: NodeJS.Timeout;
}

function parseReply(body: Buffer): RpcReply {
  try {
    return JSON.parse(body.toString('utf8')) as RpcReply;
  } catch {
    return { ok: false, error: 'the answer was not JSON' };
  }
}

/**
 * Request/reply for short questions (connection test, query, claim). Every request carries the
 * time its caller stops waiting (REPLY_BY_HEADER); a consumer that picks it up later drops it
 * unanswered. Not a broker expiration: an expired message is dead-lettered, and requests that waited
 * out a consumer's outage would fill its dead-letter queue.
 */
@Injectable()
export class RpcClient implements BeforeApplicationShutdown {
  private readonly pending = new Map<string, Pending>();
  private replyChannel?: ChannelWrapper;

  constructor(private readonly connection: BrokerConnection) {}

  /** Opened on first use: most services never ask. */
  private get channel(): ChannelWrapper {
    this.replyChannel ??= this.connection.createChannel('rpc-client', async (channel) => {
      await channel.consume(
        DIRECT_REPLY_TO,
        (message) => {
          const id = message?.properties.correlationId as string | undefined;
          const waiting = id ? this.pending.get(id) : undefined;
          if (!message || !id || !waiting) return;
          this.pending.delete(id);
          clearTimeout(waiting.timer);
          waiting.settle(parseReply(message.content));
        },
        { noAck: true },
      );
    });
    return this.replyChannel;
  }

  /** Resolves with the handler's result; rejects with RpcTimeoutError or RpcRemoteError. */
  async request<T extends object, R>(contract: MessageContract<T>, data: T, timeoutMs: number): Promise<R> {
    const envelope = createEnvelope(contract, data);
    const correlationId = randomUUID();
    const reply = new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RpcTimeoutError(`no answer to ${contract.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, {
        timer,
        settle: (answer) =>
          answer.ok ? resolve(answer.result as R) : reject(new RpcRemoteError(answer.error, answer.code)),
      });
    });
    // A publish that fails or times out is answered by the request timeout below.
    this.channel
      .publish(contract.exchange, contract.type, Buffer.from(JSON.stringify(envelope)), {
        messageId: envelope.eventId,
        type: contract.type,
        correlationId,
        replyTo: DIRECT_REPLY_TO,
        contentType: 'application/json',
        headers: {
          'x-contract-version': contract.version,
          [REPLY_BY_HEADER]: Date.now() + timeoutMs,
          // The answering service's span joins the asker's trace.
          ...traceHeaders(),
        },
        timeout: timeoutMs,
      })
      .catch(() => undefined);
    return reply;
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.settle({ ok: false, error: 'client shutting down' });
      this.pending.delete(id);
    }
    await this.replyChannel?.close();
  }
}
