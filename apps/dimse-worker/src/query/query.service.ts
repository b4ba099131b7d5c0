import { Injectable } from '@nestjs/common';
import type { DimseQueryData, QueryResult } from '@pacslink/contracts';
import { find } from '@pacslink/dimse';
import { EgressGuard } from '@pacslink/egress';
import { connectionOptions, withinDeadline } from '../dimse-target';

/**
 * The contract's query over DIMSE: one Study Root C-FIND (PS3.4 C.4.1) from the configuration's
 * query AE title. C-FIND has no offset: it asks for `limit + offset` matches (C-CANCEL after them)
 * and skips the first `offset` here.
 */
@Injectable()
export class QueryService {
  constructor(private readonly egress: EgressGuard) {}

  async query(data: DimseQueryData): Promise<QueryResult> {
    // Past the deadline the C-FIND is cancelled (C-CANCEL, then release): a PACS still sending
    // matches slowly would otherwise hold the association with nobody waiting for the answer.
    const stop = new AbortController();
    // DimseError messages are written for people: refused, timed out, rejected by whom, status.
    const matches = await withinDeadline(
      find(connectionOptions(data, this.egress), {
        level: data.level,
        keys: data.keys,
        returnKeys: data.returnKeys,
        limit: data.limit + data.offset,
        signal: stop.signal,
      }),
      data.timeoutMs,
      `no complete C-FIND answer within ${data.timeoutMs} ms from ${data.host}:${data.port} — narrow the query or raise timeoutMs`,
      () => stop.abort(),
    );
    return { results: matches.slice(data.offset, data.offset + data.limit) };
  }
}
