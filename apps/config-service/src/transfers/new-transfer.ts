import type { TransferMethod } from '@pacslink/contracts';
import { activeTraceCarrier } from '@pacslink/messaging';
import type { Actor } from '../auth/actor';
import type { PacsConfig } from '../pacs-configs/pacs-config.entity';
import type { CreateTransferRequest } from './dto/create-transfer.request';
import { Transfer } from './transfer.entity';

/** A queued transfer's row as POST /transfers makes it, before anything ran. */
export function newTransfer(
  request: CreateTransferRequest,
  config: Pick<PacsConfig, 'id' | 'aeTitle'>,
  made: {
    method: TransferMethod;
    total: number;
    actor: Actor;
    idempotencyKey: string | undefined;
    fingerprint: string;
  },
): Transfer {
  const now = new Date();
  return Object.assign(new Transfer(), {
    id: crypto.randomUUID(),
    direction: request.direction,
    pacsConfigId: config.id,
    pacsAeTitle: config.aeTitle,
    studyInstanceUid: request.studyInstanceUid,
    seriesInstanceUid: request.seriesInstanceUid ?? null,
    status: 'queued',
    method: made.method,
    fallback: null,
    attempts: 0,
    retries: 0,
    error: null,
    total: made.total,
    completed: 0,
    failed: 0,
    warning: 0,
    createdBy: made.actor.id,
    idempotencyKey: made.idempotencyKey ?? null,
    requestFingerprint: made.idempotencyKey !== undefined ? made.fingerprint : null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
    progressPublishedAt: null,
    traceContext: activeTraceCarrier(),
  } satisfies Omit<Transfer, never>);
}
