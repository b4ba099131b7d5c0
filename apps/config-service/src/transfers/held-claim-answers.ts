import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ExportBatchClaim } from '@pacslink/contracts';
import { MessageConsumer, type ReplyAddress } from '@pacslink/messaging';
import { TRANSFER_OPTIONS, type TransferOptions } from './transfer-options';
import { TransfersRepository } from './transfers.repository';

/**
 * A grant this replica made is looked for after its commits for this long; after that only the
 * sweep answers it (its transaction rolled back, or another replica answered it already).
 */
const WATCH_GRANT_MS = 10_000;

/**
 * Claims held in the batch row until a slot of the PACS frees (ADR 0006, "The engine's own cost").
 * The answer is sent only after the commit that decided it, from the row, so any replica can send
 * it: after this replica's own grants (answerDecided, right after its transaction), and in every
 * sweep for anything else (a grant of a replica that died before answering, a held batch that was
 * cancelled or dispatched again). An answer that is lost costs the worker one claim timeout: it
 * asks again and is granted (the batch runs for it) or held again.
 */
@Injectable()
export class HeldClaimAnswers {
  private readonly logger = new Logger(HeldClaimAnswers.name);
  /** Batches this replica granted a held claim of, and when: their answers are due after the commit. */
  private readonly granted = new Map<string, number>();
  private answering?: Promise<void>;
  private again = false;

  constructor(
    private readonly transfers: TransfersRepository,
    private readonly consumer: MessageConsumer,
    @Inject(TRANSFER_OPTIONS) private readonly options: TransferOptions,
  ) {}

  /** Holds `claimant`'s claim of the dispatched batch; each re-ask renews the dispatch lease. */
  async hold(
    manager: EntityManager,
    batchId: string,
    claimant: string,
    address: ReplyAddress,
  ): Promise<void> {
    await this.transfers.holdClaim(manager, batchId, {
      claimant,
      ...address,
      dispatchLeaseMs: this.options.dispatchLeaseMs,
    });
  }

  /** The held claim of the batch was granted in the caller's transaction: answer after its commit. */
  grantedIn(batchId: string): void {
    this.granted.set(batchId, Date.now());
  }

  /** After a commit: answers this replica's grants, if it made any (no query otherwise). */
  answerDecided(): void {
    const now = Date.now();
    for (const [id, at] of this.granted) if (now - at > WATCH_GRANT_MS) this.granted.delete(id);
    if (this.granted.size > 0) void this.answerAll().catch((error: unknown) => this.failed(error));
  }

  /** Every decided held claim (the sweep: whoever decided it). */
  async answerAll(): Promise<void> {
    if (this.answering) {
      this.again = true;
      return this.answering;
    }
    this.answering = (async () => {
      do {
        this.again = false;
        for (const claim of await this.transfers.decidedHeldClaims()) {
          const answer: ExportBatchClaim = claim.go
            ? { go: true }
            : { go: false, reason: `the batch is ${claim.state}` };
          await this.consumer.answerLater(claim, { ok: true, result: answer });
          await this.transfers.clearHeldClaim(claim.id, claim.correlationId);
          this.granted.delete(claim.id);
        }
      } while (this.again);
    })().finally(() => (this.answering = undefined));
    return this.answering;
  }

  private failed(error: unknown): void {
    // The sweep answers them a second later.
    this.logger.warn({ msg: 'held claims not answered', reason: (error as Error).message });
  }
}
