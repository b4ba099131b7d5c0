import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { IsInt, IsString, Min } from 'class-validator';
import { Exchanges, type ConsumerQueue, type MessageContract } from '@pacslink/contracts';
import { serviceDataSourceOptions } from '@pacslink/persistence';
import {
  MessagingModule,
  OutboxModule,
  messagingEntities,
  type MessagingOptions,
  type OutboxRelayOptions,
} from '../src';

export class PingData {
  @IsString() text!: string;
  @IsInt() @Min(0) sequence!: number;
}

export const TestQueue: ConsumerQueue = {
  name: 'pacslink.test.commands',
  exchange: Exchanges.Commands,
  bindingKeys: ['test.#'],
};

export const Ping: MessageContract<PingData> = {
  type: 'test.ping',
  version: 1,
  kind: 'command',
  exchange: Exchanges.Commands,
  data: PingData,
};

export const Poison: MessageContract<PingData> = { ...Ping, type: 'test.poison' };

export const Announcement: MessageContract<PingData> = {
  type: 'test.announced',
  version: 1,
  kind: 'event',
  exchange: Exchanges.Events,
  data: PingData,
};

export interface ReplicaOptions {
  amqpUrl: string;
  databaseUrl?: string;
  messaging?: Partial<MessagingOptions>;
  relay?: Partial<OutboxRelayOptions>;
}

/**
 * One "replica" of a service: the messaging module (and the outbox, given a database) wired as an
 * app wires them. Compiled, not started: register handlers, then `init()`; `close()` at the end.
 */
export async function createReplica(options: ReplicaOptions): Promise<TestingModule> {
  @Module({})
  class ReplicaModule {}
  const imports = [
    MessagingModule.forRoot({
      url: options.amqpUrl,
      connectionName: 'test-replica',
      consumerQueues: [TestQueue],
      ...options.messaging,
    }),
  ];
  if (options.databaseUrl) {
    imports.push(
      TypeOrmModule.forRoot(
        serviceDataSourceOptions({
          url: options.databaseUrl,
          schema: 'config',
          entities: messagingEntities,
          migrations: [],
          poolSize: 4,
        }),
      ),
      OutboxModule.forRoot({ pollIntervalMs: 50, ...options.relay }),
    );
  }
  const moduleRef = await Test.createTestingModule({ imports: [ReplicaModule, ...imports] }).compile();
  if (!process.env.TEST_LOGS) moduleRef.useLogger(false);
  return moduleRef;
}

/** A plain amqplib client, independent of the code under test, to observe what reached the broker. */
export class BrokerProbe {
  private constructor(
    private readonly model: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async open(url: string): Promise<BrokerProbe> {
    const model = await connect(url);
    return new BrokerProbe(model, await model.createChannel());
  }

  /** A fresh exclusive queue bound to `exchange` with `bindingKey`, collecting what arrives. */
  async tap(exchange: string, bindingKey: string): Promise<ConsumeMessage[]> {
    const received: ConsumeMessage[] = [];
    await this.channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await this.channel.assertQueue('', { exclusive: true });
    await this.channel.bindQueue(queue, exchange, bindingKey);
    await this.channel.consume(queue, (message) => message && received.push(message), { noAck: true });
    return received;
  }

  async drain(queue: string, expected: number, timeoutMs = 10_000): Promise<ConsumeMessage[]> {
    const received: ConsumeMessage[] = [];
    const { consumerTag } = await this.channel.consume(
      queue,
      (message) => message && received.push(message),
      {
        noAck: true,
      },
    );
    await waitFor(() => received.length >= expected, timeoutMs, `${expected} messages on ${queue}`);
    await this.channel.cancel(consumerTag);
    return received;
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => undefined);
  }
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function envelopeBody(type: string, data: object, eventId: string, version = 1): Buffer {
  return Buffer.from(JSON.stringify({ eventId, type, version, occurredAt: new Date().toISOString(), data }));
}
