import { Injectable } from '@nestjs/common';
import type { MessageContract, QueryResult } from '@pacslink/contracts';
import { QUERY_RETURN_KEYS, queryFilterProblem, type QueryFilterLevel } from '@pacslink/dicom';
import { connectionFailed } from '@pacslink/egress';
import { RpcClient, RpcRemoteError, RpcTimeoutError } from '@pacslink/messaging';
import { SecretCipher } from '@pacslink/secrets';
import type { FieldError } from '../http/validation';
import type { Actor } from '../auth/actor';
import { EgressAudit, isEgressRefusal } from '../egress/egress-audit';
import type { PacsConfig } from '../pacs-configs/pacs-config.entity';
import { PacsConfigsService } from '../pacs-configs/pacs-configs.service';
import { capabilitySwitchOf, offers, protocolOf } from '../pacs-configs/protocols/pacs-protocols';
import { SettingsService } from '../settings/settings.service';
import { DEFAULT_QUERY_LIMIT, type QueryRequest } from './dto/query.request';
import { QueryError, QueryErrorCode } from './query.errors';

/** How much longer than the configuration's own timeout we wait for the worker's answer. */
export const QUERY_RPC_MARGIN_MS = 5_000;

/** The filters as matching keys, or a QueryError naming every bad `filters.<Keyword>`. */
export function checkFilters(
  level: QueryFilterLevel,
  filters: Record<string, unknown>,
): Record<string, string> {
  const errors: FieldError[] = [];
  const keys: Record<string, string> = {};
  for (const [keyword, value] of Object.entries(filters)) {
    const field = `filters.${keyword}`;
    const problem = queryFilterProblem(level, keyword, value);
    if (problem !== undefined) errors.push({ field, message: `${field}: ${problem}` });
    else keys[keyword] = value as string;
  }
  if (errors.length > 0) {
    throw new QueryError(
      QueryErrorCode.InvalidFilters,
      errors.map((error) => error.message).join('; '),
      errors,
    );
  }
  return keys;
}

/**
 * PACS queries (contract "Query"): C-FIND through the dimse-worker or QIDO-RS through the
 * dicomweb-worker, over RPC, waiting at most the configuration's timeoutMs + 5 s. Only for
 * configurations that offer import, and only while transfers are on. A query changes nothing: no
 * event, and no audit entry unless the egress policy refused the destination.
 */
@Injectable()
export class QueryService {
  constructor(
    private readonly pacsConfigs: PacsConfigsService,
    private readonly settings: SettingsService,
    private readonly rpc: RpcClient,
    private readonly cipher: SecretCipher,
    private readonly egressAudit: EgressAudit,
  ) {}

  async query(id: string, request: QueryRequest, actor: Actor): Promise<QueryResult> {
    const keys = checkFilters(request.level, request.filters ?? {});
    const limit = request.limit ?? DEFAULT_QUERY_LIMIT;
    const offset = request.offset ?? 0;
    const row = await this.pacsConfigs.stored(id);
    if (!offers(row, 'import')) {
      throw new QueryError(
        QueryErrorCode.NotImportable,
        `PACS configuration ${id} ("${row.aeTitle}") does not offer import, so it cannot be queried: switch on ${capabilitySwitchOf(row, 'import')} with PATCH /api/v1/pacs-configs/${id}`,
      );
    }
    const settings = await this.settings.current();
    if (!settings.allowTransfer) {
      throw new QueryError(
        QueryErrorCode.TransfersOff,
        'transfers are switched off (settings.allowTransfer is false), so no PACS is offered for import: switch them on with PUT /api/v1/settings',
      );
    }
    const returnKeys = [...QUERY_RETURN_KEYS[request.level]];
    const protocol = protocolOf(row.type);
    const { contract, data } = protocol.queryCommand(
      row,
      { level: request.level, keys, returnKeys, limit, offset },
      { cipher: this.cipher, defaultCallingAeTitle: settings.defaultCallingAeTitle },
    );
    return this.ask(protocol.worker, contract, data, row, actor);
  }

  private async ask<T extends object>(
    worker: string,
    contract: MessageContract<T>,
    data: T,
    row: PacsConfig,
    actor: Actor,
  ): Promise<QueryResult> {
    const bound = row.timeoutMs + QUERY_RPC_MARGIN_MS;
    try {
      return await this.rpc.request<T, QueryResult>(contract, data, bound);
    } catch (error) {
      if (error instanceof RpcTimeoutError) {
        throw new QueryError(
          QueryErrorCode.WorkerUnavailable,
          `no ${worker} answered within ${bound} ms — is it running?`,
        );
      }
      if (error instanceof RpcRemoteError && isEgressRefusal(error.code)) {
        await this.egressAudit.refused(actor, { activity: 'query', row, detail: error.message, saved: true });
        throw new QueryError(
          QueryErrorCode.WorkerFailed,
          `the query of "${row.aeTitle}" failed: ${connectionFailed(error.message)}`,
        );
      }
      if (error instanceof RpcRemoteError) {
        throw new QueryError(
          QueryErrorCode.WorkerFailed,
          `the query of "${row.aeTitle}" failed: ${error.message}`,
        );
      }
      throw error;
    }
  }
}
