import { connect, type ChannelModel } from 'amqplib';
import { Exchanges } from '@pacslink/contracts';
import type { Cleanup } from './cleanup';

/** The contract's envelope; `data` of a transfer event. */
interface TransferEvent {
  type: string;
  data: { transferId: string; status?: string; error?: unknown };
}

const TERMINAL = new Set(['transfer.completed', 'transfer.failed', 'transfer.cancelled']);

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A queue of the benchmark's own bound to `pacslink.events` with `transfer.#`, as any subscriber
 * binds one. Terminal events are kept by transfer id, so one that arrives before its waiter
 * (a fast transfer) is not missed.
 */
export class TransferEvents {
  private readonly ended = new Map<string, TransferEvent>();
  /** When (process.hrtime) each transfer's `transfer.started` arrived. */
  private readonly started = new Map<string, bigint>();
  private readonly waiters = new Map<string, Waiter>();

  private constructor() {}

  static async subscribe(amqpUrl: string, cleanup: Cleanup): Promise<TransferEvents> {
    const events = new TransferEvents();
    const connection: ChannelModel = await connect(amqpUrl);
    cleanup.add('close the events subscription', () => connection.close());
    const channel = await connection.createChannel();
    await channel.assertExchange(Exchanges.Events, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, Exchanges.Events, 'transfer.#');
    await channel.consume(
      queue,
      (message) => {
        if (message) events.receive(JSON.parse(message.content.toString('utf8')) as TransferEvent);
      },
      { noAck: true },
    );
    return events;
  }

  private receive(event: TransferEvent): void {
    if (event.type === 'transfer.started') this.started.set(event.data.transferId, process.hrtime.bigint());
    if (!TERMINAL.has(event.type)) return;
    const id = event.data.transferId;
    this.ended.set(id, event);
    this.settle(id);
  }

  private settle(id: string): void {
    const event = this.ended.get(id);
    const waiter = this.waiters.get(id);
    if (!event || !waiter) return;
    this.waiters.delete(id);
    if (event.type === 'transfer.completed') waiter.resolve();
    else
      waiter.reject(
        new Error(`${event.type} for transfer ${id}: ${JSON.stringify(event.data.error ?? event.data)}`),
      );
  }

  /** When `transfer.started` arrived for the transfer (process.hrtime), if it did. */
  startedAt(transferId: string): bigint | undefined {
    return this.started.get(transferId);
  }

  /** Resolves on `transfer.completed`, rejects on `transfer.failed|cancelled` or after `timeoutMs`. */
  waitForEnd(transferId: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(transferId);
        reject(
          new Error(`no terminal event for transfer ${transferId} within ${Math.round(timeoutMs / 1000)} s`),
        );
      }, timeoutMs);
      this.waiters.set(transferId, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.settle(transferId);
    });
  }
}
