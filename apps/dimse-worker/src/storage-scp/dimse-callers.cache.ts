import { Inject, Injectable } from '@nestjs/common';
import { DimseCallerRequests, type DimseCallers, type DimseCallersQueryData } from '@pacslink/contracts';
import type { ScpCaller } from '@pacslink/dimse';
import { RpcClient } from '@pacslink/messaging';

/** The Storage SCP's own AE title (SCP_AE_TITLE). */
export const SCP_AE_TITLE = Symbol('SCP_AE_TITLE');

/** How long an answer stands: a new or renamed PACS may call us within this long of being saved. */
export const DIMSE_CALLERS_TTL_MS = 10_000;
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Who may call the Storage SCP, learnt from config-service (workers have no database) and kept
 * for DIMSE_CALLERS_TTL_MS: one RPC per TTL whatever the number of associations, and a deletion
 * takes effect within the TTL. Events (pacs-config.*) alone would leave a worker that started
 * after a change, or missed one, with the wrong list; asking needs no such bookkeeping.
 */
@Injectable()
export class DimseCallersCache {
  private cached: { at: number; callers: Promise<Map<string, ScpCaller>> } | undefined;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(SCP_AE_TITLE) private readonly scpAeTitle: string,
  ) {}

  /**
   * The configured DIMSE PACS calling as `callingAeTitle`; AE titles are unique across
   * configurations compared case-insensitively (contract), so they are matched the same way.
   */
  async identify(callingAeTitle: string): Promise<ScpCaller | undefined> {
    return (await this.callers()).get(callingAeTitle.toUpperCase());
  }

  private callers(): Promise<Map<string, ScpCaller>> {
    const now = Date.now();
    if (this.cached === undefined || now - this.cached.at > DIMSE_CALLERS_TTL_MS) {
      const callers = this.ask();
      this.cached = { at: now, callers };
      // A failed answer is not kept: the next association asks again.
      callers.catch(() => {
        if (this.cached?.callers === callers) this.cached = undefined;
      });
    }
    return this.cached.callers;
  }

  private async ask(): Promise<Map<string, ScpCaller>> {
    const answer = await this.rpc.request<DimseCallersQueryData, DimseCallers>(
      DimseCallerRequests.List,
      { scpAeTitle: this.scpAeTitle },
      REQUEST_TIMEOUT_MS,
    );
    return new Map(
      answer.callers.map((caller) => [
        caller.aeTitle.toUpperCase(),
        { id: caller.pacsConfigId, aeTitle: caller.aeTitle },
      ]),
    );
  }
}
