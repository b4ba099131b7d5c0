import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { InboxMessage } from './inbox-message.entity';

/**
 * Makes a consumer idempotent: the message id is recorded in the same transaction as the work it
 * causes, so a redelivered message (at-least-once) finds its id and has no second effect. Two
 * concurrent deliveries of one id serialise on the primary key; the second sees the first's commit.
 */
@Injectable()
export class Inbox {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` unless `consumer` already processed `messageId`; returns whether it ran. */
  async once(
    consumer: string,
    messageId: string,
    work: (manager: EntityManager) => Promise<void>,
  ): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(InboxMessage)
        .values({ consumer, messageId })
        .orIgnore()
        .returning(['messageId'])
        .execute();
      if ((inserted.raw as unknown[]).length === 0) return false;
      await work(manager);
      return true;
    });
  }
}
