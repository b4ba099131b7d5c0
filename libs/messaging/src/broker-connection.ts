import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import { MESSAGING_OPTIONS, type ResolvedMessagingOptions } from './messaging.options';
import { assertTopology } from './topology';

/**
 * The service's one AMQP connection. amqp-connection-manager reconnects after a broker restart or
 * a cut network and re-runs every channel's setup (topology, consumers) on the new connection.
 */
@Injectable()
export class BrokerConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(BrokerConnection.name);
  private readonly manager: AmqpConnectionManager;
  private topologyDeclared = false;

  constructor(@Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions) {
    this.manager = amqp.connect([options.url], {
      heartbeatIntervalInSeconds: options.heartbeatSeconds,
      reconnectTimeInSeconds: options.reconnectSeconds,
      connectionOptions: { timeout: 10_000, clientProperties: { connection_name: options.connectionName } },
    });
    this.manager.on('connect', () => this.logger.log({ msg: 'broker connected' }));
    this.manager.on('disconnect', ({ err }) => {
      this.topologyDeclared = false;
      this.logger.warn({ msg: 'broker disconnected', reason: err?.message });
    });
    this.manager.on('connectFailed', ({ err }) =>
      this.logger.warn({ msg: 'broker connection failed', reason: err?.message }),
    );
  }

  /** Connected, and the topology declared on this connection (quorum queues take a moment). */
  isConnected(): boolean {
    return this.manager.isConnected() && this.topologyDeclared;
  }

  /** A confirm channel whose setup first declares the topology, then runs `setup` (consumers etc.). */
  createChannel(name: string, setup?: (channel: ConfirmChannel) => Promise<void>): ChannelWrapper {
    const channel = this.manager.createChannel({
      name,
      confirm: true,
      publishTimeout: this.options.publishTimeoutMs,
      setup: async (channel: ConfirmChannel) => {
        channel.once('error', (error: Error) =>
          this.logger.error({ msg: 'broker closed the channel', channel: name, reason: error.message }),
        );
        const { consumerQueues, commandQueues, deliveryLimit } = this.options;
        await assertTopology(channel, [...consumerQueues, ...commandQueues], deliveryLimit);
        this.topologyDeclared = true;
        if (setup) await setup(channel);
      },
    });
    // A failed setup or a channel-level error closes the channel; the manager opens a new one and
    // runs the setup again. Unlistened, the 'error' event would crash the process.
    channel.on('error', (error: Error) =>
      this.logger.error({ msg: 'broker channel error', channel: name, reason: error.message }),
    );
    return channel;
  }

  /**
   * Ready messages per queue, read by a passive declare (no management API needed) on a channel of
   * its own: a queue that does not exist closes that channel and is left out of the answer.
   * Nothing while the broker is unreachable.
   */
  async queueDepths(queues: readonly string[]): Promise<Map<string, number>> {
    const depths = new Map<string, number>();
    const connection = this.manager.connection;
    if (!connection) return depths;
    let channel: Channel | undefined;
    try {
      for (const queue of queues) {
        channel ??= await openChannel(connection);
        try {
          depths.set(queue, (await channel.checkQueue(queue)).messageCount);
        } catch {
          // 404: the broker closed the channel; the next queue gets a new one.
          channel = undefined;
        }
      }
    } finally {
      await channel?.close().catch(() => undefined);
    }
    return depths;
  }

  /** After every channel closed in onModuleDestroy: closing both at once can hang amqp-connection-manager. */
  async onApplicationShutdown(): Promise<void> {
    await this.manager.close();
  }
}

/** A plain channel whose broker-side close (a failed passive declare) is expected, not a crash. */
async function openChannel(connection: ChannelModel): Promise<Channel> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  return channel;
}
