import type { TransferEventData } from '@pacslink/contracts';
import type { TransferInstanceResponse, TransferResponse } from './dto/transfer.response';
import type { TransferInstance } from './transfer-instance.entity';
import type { Transfer } from './transfer.entity';

function progressOf(row: Transfer): TransferEventData['progress'] {
  return { total: row.total, completed: row.completed, failed: row.failed, warning: row.warning };
}

export function toTransferResponse(row: Transfer): TransferResponse {
  return {
    id: row.id,
    direction: row.direction,
    pacsConfigId: row.pacsConfigId,
    pacsAeTitle: row.pacsAeTitle,
    studyInstanceUid: row.studyInstanceUid,
    ...(row.seriesInstanceUid !== null ? { seriesInstanceUid: row.seriesInstanceUid } : {}),
    status: row.status,
    progress: progressOf(row),
    method: row.method,
    ...(row.fallback !== null ? { fallback: row.fallback } : {}),
    attempts: row.attempts,
    ...(row.error !== null ? { error: row.error } : {}),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The contract's transfer event data: no patient names or IDs, no secrets. */
export function toTransferEventData(row: Transfer): TransferEventData {
  return {
    transferId: row.id,
    direction: row.direction,
    pacsConfigId: row.pacsConfigId,
    pacsAeTitle: row.pacsAeTitle,
    studyInstanceUid: row.studyInstanceUid,
    status: row.status,
    progress: progressOf(row),
    method: row.method,
    ...(row.fallback !== null ? { fallback: row.fallback } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
  };
}

export function toTransferInstanceResponse(row: TransferInstance): TransferInstanceResponse {
  return {
    sopInstanceUid: row.sopInstanceUid,
    seriesInstanceUid: row.seriesInstanceUid,
    sopClassUid: row.sopClassUid,
    status: row.status,
    ...(row.statusCode !== null ? { statusCode: row.statusCode } : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
  };
}
