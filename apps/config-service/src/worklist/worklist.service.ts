import { Injectable } from '@nestjs/common';
import {
  WorklistRequests,
  type MessageContract,
  type WorklistQueryResult,
  type WorklistTaskPage,
  type WorklistTasksListData,
} from '@pacslink/contracts';
import { connectionFailed } from '@pacslink/egress';
import { RpcClient, RpcRemoteError } from '@pacslink/messaging';
import type { Actor } from '../auth/actor';
import { EgressAudit, isEgressRefusal } from '../egress/egress-audit';
import type { PacsConfig } from '../pacs-configs/pacs-config.entity';
import { PacsConfigsService } from '../pacs-configs/pacs-configs.service';
import { offers, protocolOf } from '../pacs-configs/protocols/pacs-protocols';
import { SettingsService } from '../settings/settings.service';
import type { ListWorklistTasksQuery } from './dto/list-worklist-tasks.query';
import type { WorklistQueryRequest } from './dto/worklist-query.request';
import { askMwlMpps } from './mwl-mpps-rpc';
import { checkWorklistFilters } from './worklist-filters';
import { WorklistError, WorklistErrorCode } from './worklist.errors';

/** How much longer than the configuration's own timeout we wait for mwl-mpps-service's answer. */
export const WORKLIST_RPC_MARGIN_MS = 5_000;
/** Listing reads mwl-mpps-service's own table: no PACS on the way. */
export const WORKLIST_LIST_RPC_MS = 10_000;

/**
 * The contract's worklist through config-service: it owns the PACS configurations, so it builds the
 * target (address, AE titles, timeout, mwlEncoding) and asks mwl-mpps-service over RPC, which runs
 * the C-FIND and keeps the tasks. A query changes no configuration: no event, no audit entry
 * unless the egress policy refused the destination.
 */
@Injectable()
export class WorklistService {
  constructor(
    private readonly pacsConfigs: PacsConfigsService,
    private readonly settings: SettingsService,
    private readonly rpc: RpcClient,
    private readonly egressAudit: EgressAudit,
  ) {}

  async query(request: WorklistQueryRequest, actor: Actor): Promise<WorklistQueryResult> {
    const filters = checkWorklistFilters(request.filters ?? {});
    const row = await this.pacsConfigs.stored(request.pacsConfigId);
    const protocol = protocolOf(row.type);
    if (protocol.worklistQueryCommand === undefined || !offers(row, 'worklist')) {
      throw new WorklistError(
        WorklistErrorCode.NotOffered,
        `PACS configuration ${row.id} ("${row.aeTitle}") does not offer a Modality Worklist: only a DIMSE configuration with mwl does (PATCH /api/v1/pacs-configs/${row.id} {"mwl": true})`,
      );
    }
    const { defaultCallingAeTitle } = await this.settings.current();
    const { contract, data } = protocol.worklistQueryCommand(row, filters, { defaultCallingAeTitle });
    const bound = row.timeoutMs + WORKLIST_RPC_MARGIN_MS;
    try {
      return await this.ask<object, WorklistQueryResult>(contract, data, bound);
    } catch (error) {
      throw await this.queryFailure(error, row, actor);
    }
  }

  async list(query: ListWorklistTasksQuery): Promise<WorklistTaskPage> {
    const data: WorklistTasksListData = {
      ...(query.pacsConfigId !== undefined ? { pacsConfigId: query.pacsConfigId } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      limit: query.limit,
      offset: query.offset,
    };
    return this.ask(WorklistRequests.ListTasks, data, WORKLIST_LIST_RPC_MS);
  }

  private ask<T extends object, R>(contract: MessageContract<T>, data: T, bound: number): Promise<R> {
    return askMwlMpps(this.rpc, contract, data, bound);
  }

  private async queryFailure(error: unknown, row: PacsConfig, actor: Actor): Promise<unknown> {
    if (!(error instanceof RpcRemoteError)) return error;
    if (isEgressRefusal(error.code)) {
      await this.egressAudit.refused(actor, { activity: 'query', row, detail: error.message, saved: true });
      return new WorklistError(
        WorklistErrorCode.QueryFailed,
        `the worklist query of "${row.aeTitle}" failed: ${connectionFailed(error.message)}`,
      );
    }
    return new WorklistError(
      WorklistErrorCode.QueryFailed,
      `the worklist query of "${row.aeTitle}" failed: ${error.message}`,
    );
  }
}
