import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { context } from '@opentelemetry/api';
import { DataSource, In, LessThan, type EntityManager } from 'typeorm';
import { ConfirmedPublisher } from '../confirmed-publisher';
import { traceContextOf } from '../trace-context';
import { OutboxMessage } from './outbox-message.entity';

export interface OutboxRelayOptions {
  batchSize: number;
  pollIntervalMs: number;
  /** Sent rows are kept this long for inspection, then pruned. */
  retainSentMs: number;
}

export const OUTBOX_RELAY_OPTIONS = Symbol('OUTBOX_RELAY_OPTIONS');

export const defaultOutboxRelayOptions: OutboxRelayOptions = {
  batchSize: 100,
  pollIntervalMs: 250,
  retainSentMs: 24 * 3600_000,
};

/**
 * Publishes committed outbox rows. Each batch is claimed with `FOR UPDATE SKIP LOCKED`, so any
 * number of relays (replicas) can run at once and a row is published by one of them; a row is
 * marked sent only after the broker confirmed it, and a failed row waits out an exponential backoff.
 * A crash between confirm and commit republishes the row: consumers deduplicate by message id.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRelay.name);
  private running?: Promise<void>;
  private stopped = false;
  private wakeUp?: () => void;
  /** A wake() that came while a batch was being relayed: the loop goes again at once. */
  private woken = false;
  private lastPrune = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: ConfirmedPublisher,
    @Inject(OUTBOX_RELAY_OPTIONS) private readonly options: OutboxRelayOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.running = this.loop();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.running;
  }

  /** A hint that rows were just committed; polling remains the source of truth. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Publishes one batch; returns how many rows it claimed. */
  async relayBatch(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager
        .getRepository(OutboxMessage)
        .createQueryBuilder('message')
        .where('message.sentAt IS NULL')
        .andWhere('message.availableAt <= now()')
        .orderBy('message.createdAt', 'ASC')
        .limit(this.options.batchSize)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      const outcomes = await Promise.allSettled(
        // Each in the trace of the transaction that enqueued it.
        rows.map((row) =>
          context.with(traceContextOf(row.traceContext), () =>
            this.publisher.publish(row.exchange, row.envelope),
          ),
        ),
      );
      const sent = rows.filter((_, i) => outcomes[i].status === 'fulfilled').map((row) => row.id);
      if (sent.length > 0) {
        await manager.update(OutboxMessage, { id: In(sent) }, { sentAt: new Date(), lastError: null });
      }
      for (const [i, row] of rows.entries()) {
        const outcome = outcomes[i];
        if (outcome.status === 'rejected') await this.postpone(manager, row, outcome.reason);
      }
      return rows.length;
    });
  }

  private async postpone(manager: EntityManager, row: OutboxMessage, reason: unknown): Promise<void> {
    const attempts = row.attempts + 1;
    const delayMs = Math.min(60_000, 500 * 2 ** Math.min(attempts, 7)) * (0.5 + Math.random() / 2);
    await manager.update(OutboxMessage, row.id, {
      attempts,
      lastError: reason instanceof Error ? reason.message : String(reason),
      availableAt: new Date(Date.now() + delayMs),
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      let claimed = 0;
      try {
        claimed = await this.relayBatch();
        await this.pruneSent();
      } catch (error) {
        this.logger.warn({ msg: 'outbox relay batch failed', reason: (error as Error).message });
      }
      if (claimed < this.options.batchSize && !this.stopped && !this.woken) await this.sleep();
    }
  }

  private async pruneSent(): Promise<void> {
    if (Date.now() - this.lastPrune < 60_000) return;
    this.lastPrune = Date.now();
    await this.dataSource.getRepository(OutboxMessage).delete({
      sentAt: LessThan(new Date(Date.now() - this.options.retainSentMs)),
    });
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.options.pollIntervalMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
