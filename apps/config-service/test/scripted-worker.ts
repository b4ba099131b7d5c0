import { randomUUID } from 'node:crypto';
import { connect, type ChannelModel, type ConfirmChannel, type GetMessage } from 'amqplib';
import {
  ConsumerQueues,
  ExportBatchReports,
  type Envelope,
  type ExportBatchClaim,
  type ExportBatchData,
  type MessageContract,
} from '@pacslink/contracts';
import { createEnvelope } from '@pacslink/messaging';
import { eventually } from '@pacslink/testing';

const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/**
 * A worker played by the test on the real broker, message by message, to put config-service in
 * the situations a real worker reaches only by chance (a command that keeps failing, reports in
 * the worst order): takes batch commands, claims them, publishes reports, reads queues.
 */
export class ScriptedWorker {
  private constructor(
    private readonly connection: ChannelModel,
    readonly channel: ConfirmChannel,
  ) {}

  static async connect(amqpUrl: string): Promise<ScriptedWorker> {
    const connection = await connect(amqpUrl);
    const channel = await connection.createConfirmChannel();
    return new ScriptedWorker(connection, channel);
  }

  /** The next message of `queue`, unacked (get with manual ack), once there is one. */
  async take(queue: string, ms = 30_000): Promise<GetMessage> {
    return eventually(
      `a message in ${queue}`,
      async () => {
        const message = await this.channel.get(queue, { noAck: false });
        return message === false ? undefined : message;
      },
      ms,
    );
  }

  /**
   * The next batch command of `transferId` for dimse-worker, unacked, with its data. Commands of
   * other transfers met on the way are acked, as a worker drops the stale ones it cannot claim.
   */
  async takeDimseCommand(transferId: string): Promise<{ message: GetMessage; batch: ExportBatchData }> {
    for (;;) {
      const message = await this.take(ConsumerQueues.DimseWorkerCommands.name);
      const batch = (JSON.parse(message.content.toString()) as Envelope<ExportBatchData>).data;
      if (batch.transferId === transferId) return { message, batch };
      this.channel.ack(message);
    }
  }

  /** Everything in `queue` now, acked (gone), as envelopes. */
  async drain(queue: string): Promise<Envelope[]> {
    const taken: Envelope[] = [];
    for (;;) {
      const message = await this.channel.get(queue, { noAck: true });
      if (message === false) return taken;
      taken.push(JSON.parse(message.content.toString()) as Envelope);
    }
  }

  async depth(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Publishes a message again, as it was (same properties), and waits for the confirm. */
  async republish(message: GetMessage): Promise<void> {
    this.channel.publish(
      message.fields.exchange,
      message.fields.routingKey,
      message.content,
      message.properties,
    );
    await this.channel.waitForConfirms();
  }

  /** A claim, as a worker run makes it (RPC over direct reply-to), answered by config-service. */
  async claim(batch: ExportBatchData, claimant: string = randomUUID()): Promise<ExportBatchClaim> {
    const channel = await this.connection.createChannel();
    try {
      const correlationId = randomUUID();
      const answered = new Promise<ExportBatchClaim>((resolve, reject) => {
        void channel.consume(
          DIRECT_REPLY_TO,
          (message) => {
            if (message?.properties.correlationId !== correlationId) return;
            const reply = JSON.parse(message.content.toString()) as
              { ok: true; result: ExportBatchClaim } | { ok: false; error: string };
            if (reply.ok) resolve(reply.result);
            else reject(new Error(reply.error));
          },
          { noAck: true },
        );
      });
      const run = { transferId: batch.transferId, batchId: batch.batchId, attempt: batch.attempt, claimant };
      const envelope = createEnvelope(ExportBatchReports.Claim, run);
      channel.publish(
        ExportBatchReports.Claim.exchange,
        envelope.type,
        Buffer.from(JSON.stringify(envelope)),
        {
          messageId: envelope.eventId,
          type: envelope.type,
          correlationId,
          replyTo: DIRECT_REPLY_TO,
          contentType: 'application/json',
          expiration: '15000',
        },
      );
      return await answered;
    } finally {
      await channel.close();
    }
  }

  /** Publishes a report (or any message) under its contract and waits for the confirm. */
  async publish<T extends object>(contract: MessageContract<T>, data: T): Promise<void> {
    const envelope = createEnvelope(contract, data);
    this.channel.publish(contract.exchange, envelope.type, Buffer.from(JSON.stringify(envelope)), {
      messageId: envelope.eventId,
      type: envelope.type,
      contentType: 'application/json',
      persistent: true,
    });
    await this.channel.waitForConfirms();
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
