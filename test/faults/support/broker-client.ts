import {
  connect,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Message,
  type Options,
} from 'amqplib';
import { Exchanges } from '@pacslink/contracts';

/**
 * The suite's own AMQP connection to the stack's vhost (directly, not through the cuttable link),
 * to do to the broker what a misbehaving producer or a redelivery would: publish a command again,
 * publish garbage, take what a queue holds.
 */
export class BrokerClient {
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: ConfirmChannel,
  ) {}

  static async connect(amqpUrl: string): Promise<BrokerClient> {
    const connection = await connect(amqpUrl);
    return new BrokerClient(connection, await connection.createConfirmChannel());
  }

  /** Publishes on pacslink.commands and waits for the broker's confirm. */
  async publishCommand(routingKey: string, content: Buffer, options: Options.Publish = {}): Promise<void> {
    this.channel.publish(Exchanges.Commands, routingKey, content, { persistent: true, ...options });
    await this.channel.waitForConfirms();
  }

  /**
   * A queue of the suite's own bound to pacslink.commands: a copy of every command routed by
   * `bindingKey`, as the workers' own queue receives it. Undone by the returned function.
   */
  async tapCommands(
    bindingKey: string,
    onCommand: (message: ConsumeMessage) => void,
  ): Promise<() => Promise<void>> {
    const channel = await this.connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, Exchanges.Commands, bindingKey);
    await channel.consume(queue, (message) => message && onCommand(message), { noAck: true });
    return async () => {
      await channel.deleteQueue(queue);
      await channel.close();
    };
  }

  /** Messages ready in `queue` now (exact, unlike the management API's statistics, which lag by seconds). */
  async ready(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Takes (and acks) every message `queue` holds now. */
  async drain(queue: string): Promise<Message[]> {
    const taken: Message[] = [];
    for (;;) {
      const message = await this.channel.get(queue, { noAck: true });
      if (message === false) return taken;
      taken.push(message);
    }
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
