import {
  connect,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Message,
  type Options,
} from 'amqplib';
import { Exchanges } from '@pacslink/contracts';
import { DEAD_LETTER_REASON_HEADER } from '@pacslink/messaging';

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

  /**
   * What the first `max` messages of `queue` are, grouped ("3 × dimse.export-batch (expired)"),
   * leaving them where they are (unacknowledged gets, requeued when their channel closes).
   */
  async describe(queue: string, max = 100): Promise<string> {
    const channel = await this.connection.createChannel();
    const kinds = new Map<string, number>();
    try {
      for (let i = 0; i < max; i++) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) break;
        const headers = message.properties.headers ?? {};
        const deaths = headers['x-death'] as { reason?: string }[] | undefined;
        const why = (headers[DEAD_LETTER_REASON_HEADER] as string | undefined) ?? deaths?.[0]?.reason;
        const kind = `${String(message.properties.type ?? message.fields.routingKey)}${why === undefined ? '' : ` (${why})`}`;
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }
    } finally {
      await channel.close();
    }
    return [...kinds].map(([kind, count]) => `${count} × ${kind}`).join(', ');
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
