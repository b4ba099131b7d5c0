import { Injectable } from '@nestjs/common';
import type { DimseQueryData, QueryResult } from '@pacslink/contracts';
import { find } from '@pacslink/dimse';

/**
 * The contract's query over DIMSE: one Study Root C-FIND (PS3.4 C.4.1) from the configuration's
 * query AE title. C-FIND has no offset: it asks for `limit + offset` matches (C-CANCEL after them)
 * and skips the first `offset` here.
 */
@Injectable()
export class QueryService {
  async query(data: DimseQueryData): Promise<QueryResult> {
    let deadline: NodeJS.Timeout | undefined;
    try {
      // Each phase is bounded by timeoutMs; the race keeps the whole query within it too, so the
      // answer arrives before config-service's RPC bound (timeoutMs + 5 s).
      const timedOut = new Promise<never>((_, reject) => {
        deadline = setTimeout(
          () =>
            reject(
              new Error(
                `no complete C-FIND answer within ${data.timeoutMs} ms from ${data.host}:${data.port} — narrow the query or raise timeoutMs`,
              ),
            ),
          data.timeoutMs,
        );
      });
      const found = find(
        {
          host: data.host,
          port: data.port,
          callingAeTitle: data.callingAeTitle,
          calledAeTitle: data.calledAeTitle,
          connectTimeoutMs: data.timeoutMs,
          associationTimeoutMs: data.timeoutMs,
          pduTimeoutMs: data.timeoutMs,
        },
        { level: data.level, keys: data.keys, returnKeys: data.returnKeys, limit: data.limit + data.offset },
      );
      found.catch(() => undefined);
      // DimseError messages are written for people: refused, timed out, rejected by whom, status.
      const matches = await Promise.race([found, timedOut]);
      return { results: matches.slice(data.offset, data.offset + data.limit) };
    } finally {
      clearTimeout(deadline);
    }
  }
}
