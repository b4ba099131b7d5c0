import { connect, type ChannelModel } from 'amqplib';
import { Exchanges } from '@pacslink/contracts';
import type { Cleanup } from '../export/cleanup';
import { log } from '../export/log';

/** The messages of a transfer the benchmark times, by their envelope type. */
const TAPPED = {
  [Exchanges.Commands]: [
    'dimse.export-batch',
    'config-service.export-batch.claim',
    'config-service.export-batch.progress',
    'config-service.export-batch.finished',
  ],
  [Exchanges.Events]: ['transfer.#'],
} as const;

const TERMINAL = new Set(['transfer.completed', 'transfer.failed', 'transfer.cancelled']);

interface Tapped {
  type: string;
  data: { transferId?: string; error?: unknown };
}

/**
 * A queue of the benchmark's own (exclusive, not durable: no disk on its way) bound beside the
 * services' queues: the time each command, claim, finished report and event of a transfer reached
 * the broker's exchange, as near as a subscriber can see it. Keyed by transfer id.
 */
export class MessageTaps {
  private readonly seen = new Map<string, Map<string, bigint[]>>();
  private readonly waiters = new Map<string, (type: string, error?: unknown) => void>();
  private readonly ended = new Map<string, Tapped>();

  private constructor() {}

  static async subscribe(amqpUrl: string, cleanup: Cleanup): Promise<MessageTaps> {
    const taps = new MessageTaps();
    const connection: ChannelModel = await connect(amqpUrl);
    cleanup.add('close the message taps', () => connection.close());
    connection.on('error', (error: Error) => log(`message taps: ${error.message}`));
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    for (const [exchange, keys] of Object.entries(TAPPED)) {
      await channel.checkExchange(exchange);
      for (const key of keys) await channel.bindQueue(queue, exchange, key);
    }
    await channel.consume(
      queue,
      (message) => {
        if (message) taps.receive(JSON.parse(message.content.toString('utf8')) as Tapped);
      },
      { noAck: true },
    );
    return taps;
  }

  private receive(message: Tapped): void {
    const at = process.hrtime.bigint();
    const id = message.data.transferId;
    if (id === undefined) return;
    const byType = this.seen.get(id) ?? new Map<string, bigint[]>();
    this.seen.set(id, byType);
    byType.set(message.type, [...(byType.get(message.type) ?? []), at]);
    if (!TERMINAL.has(message.type)) return;
    this.ended.set(id, message);
    this.waiters.get(id)?.(message.type, message.data.error);
  }

  /** When each message of `type` of the transfer arrived (process.hrtime ns), in order. */
  times(transferId: string, type: string): bigint[] {
    return this.seen.get(transferId)?.get(type) ?? [];
  }

  /** Resolves on transfer.completed; rejects on failed/cancelled or after `timeoutMs`. */
  waitForEnd(transferId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(transferId);
        reject(new Error(`transfer ${transferId} did not end within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const settle = (type: string, error?: unknown) => {
        clearTimeout(timer);
        this.waiters.delete(transferId);
        if (type === 'transfer.completed') resolve();
        else reject(new Error(`${type} for transfer ${transferId}: ${JSON.stringify(error)}`));
      };
      const ended = this.ended.get(transferId);
      if (ended) settle(ended.type, ended.data.error);
      else this.waiters.set(transferId, settle);
    });
  }
}
