import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { loggableUrl } from '@pacslink/platform';
import { AuditLog } from '../audit/audit-log';
import type { Actor } from './actor';

export interface Refusal {
  status: 401 | 403;
  method: string;
  /** The path as it arrived, without its query (which may hold a ticket). */
  path: string;
  reason: string;
  remoteAddress?: string;
}

/** Who a 401 is recorded as: the caller is not known, and what they claimed is not trusted. */
const UNAUTHENTICATED: Actor = { id: 'unauthenticated', roles: [] };
/**
 * Refusals written per status and window; beyond it they are counted, and the next entry of that
 * status says how many were left out.
 */
const ENTRIES_PER_WINDOW = 100;
const WINDOW_MS = 10_000;
const MAX_PATH = 256;

/** One status's share of the audit: entries written in the current window, and refusals left out. */
interface Budget {
  windowStart: number;
  written: number;
  omitted: number;
}

/**
 * Every refused request goes to the audit log (auth.refused) and to the log. Anyone who reaches the
 * port can cause refusals, so entries are capped per window; what the cap leaves out is counted
 * in the next entry of the same status (`omittedBefore`) rather than lost without a trace.
 */
@Injectable()
export class RefusalAudit {
  private readonly logger = new Logger('Auth');
  // Capped apart: anyone can cause 401s, and a flood of them must not leave the 403s of a known
  // caller (an operator trying an admin route right after) unwritten.
  private readonly budgets: Record<Refusal['status'], Budget> = {
    401: { windowStart: 0, written: 0, omitted: 0 },
    403: { windowStart: 0, written: 0, omitted: 0 },
  };

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  async record(refusal: Refusal, actor: Actor = UNAUTHENTICATED): Promise<void> {
    const path = refusal.path.length > MAX_PATH ? `${refusal.path.slice(0, MAX_PATH)}…` : refusal.path;
    // The log line, unlike the audit entry, is read by anyone with the logs: no Study UID in it.
    this.logger.warn({ msg: 'request refused', ...refusal, path: loggableUrl(path), actor: actor.id });
    const budget = this.budgets[refusal.status];
    const now = Date.now();
    if (now - budget.windowStart >= WINDOW_MS) {
      budget.windowStart = now;
      budget.written = 0;
    }
    if (budget.written >= ENTRIES_PER_WINDOW) {
      budget.omitted += 1;
      return;
    }
    budget.written += 1;
    const omittedBefore = budget.omitted;
    budget.omitted = 0;
    try {
      await this.audit.record(this.dataSource.manager, actor, {
        action: 'auth.refused',
        entityType: 'request',
        change: { ...refusal, path, ...(omittedBefore > 0 ? { omittedBefore } : {}) },
      });
    } catch (error) {
      // The refusal stands whether or not its entry could be written (e.g. the database is down).
      budget.omitted += omittedBefore + 1;
      this.logger.error({ msg: 'could not audit a refused request', error: (error as Error).message });
    }
  }
}
