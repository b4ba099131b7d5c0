import { Injectable } from '@nestjs/common';
import type { ConnectionTestResult, MessageContract } from '@pacslink/contracts';
import { RpcClient, RpcRemoteError, RpcTimeoutError } from '@pacslink/messaging';
import { SecretCipher } from '@pacslink/secrets';
import type { Actor } from '../auth/actor';
import { EgressAudit, isEgressRefusal } from '../egress/egress-audit';
import { LocalAeTitlesService } from '../local-ae-titles/local-ae-titles.service';
import type { CreatePacsConfigDto } from '../pacs-configs/dto/create-pacs-config.dto';
import type { PacsConfig } from '../pacs-configs/pacs-config.entity';
import { PacsConfigsService } from '../pacs-configs/pacs-configs.service';
import { protocolOf } from '../pacs-configs/protocols/pacs-protocols';
import { SettingsService } from '../settings/settings.service';
import { ConnectionTestError, ConnectionTestErrorCode } from './connection-test.errors';

/** How much longer than the configuration's own timeout we wait for the worker's answer. */
export const RPC_MARGIN_MS = 5_000;

/** How many local AE titles a message lists before it says "and N more". */
const LISTED = 20;

/** The contract's answer: the worker's error code is for config-service, not for the caller. */
function answerOf({ code: _code, ...answer }: ConnectionTestResult): ConnectionTestResult {
  return answer;
}

/**
 * Connection tests: asks the worker of the configuration's type over RPC and waits at most the
 * configuration's timeoutMs + 5 s. The secret goes sealed (SecretCipher) and is unsealed by the
 * worker just before use; nothing here logs or returns it. A test changes nothing, but a test of
 * an unsaved configuration is audited (it can point anywhere), and so is a destination the egress
 * policy refused.
 */
@Injectable()
export class ConnectionTestService {
  constructor(
    private readonly pacsConfigs: PacsConfigsService,
    private readonly localAeTitles: LocalAeTitlesService,
    private readonly settings: SettingsService,
    private readonly rpc: RpcClient,
    private readonly cipher: SecretCipher,
    private readonly egressAudit: EgressAudit,
  ) {}

  async testSaved(id: string, actor: Actor, callingAeTitle?: string): Promise<ConnectionTestResult> {
    const row = await this.pacsConfigs.stored(id);
    const result = await this.test(row, callingAeTitle);
    if (isEgressRefusal(result.code)) {
      await this.egressAudit.refused(actor, {
        activity: 'connection-test',
        row,
        detail: result.detail ?? '',
        saved: true,
      });
    }
    return answerOf(result);
  }

  async testUnsaved(
    config: CreatePacsConfigDto,
    actor: Actor,
    callingAeTitle?: string,
  ): Promise<ConnectionTestResult> {
    const row = this.pacsConfigs.unsaved(config);
    let result: ConnectionTestResult;
    try {
      result = await this.test(row, callingAeTitle);
    } catch (error) {
      // The worker may have tried the destination: on record too, with what the caller was told.
      if (
        error instanceof ConnectionTestError &&
        error.code !== ConnectionTestErrorCode.CallingAeTitleNotLocal
      ) {
        await this.egressAudit.unsavedTested(actor, row, { error: error.message });
      }
      throw error;
    }
    if (isEgressRefusal(result.code)) {
      await this.egressAudit.refused(actor, {
        activity: 'connection-test',
        row,
        detail: result.detail ?? '',
        saved: false,
      });
    }
    await this.egressAudit.unsavedTested(actor, row, {
      ok: result.ok,
      ...(result.detail === undefined ? {} : { detail: result.detail }),
      ...(result.code === undefined ? {} : { code: result.code }),
    });
    return answerOf(result);
  }

  private async test(row: PacsConfig, callingAeTitle: string | undefined): Promise<ConnectionTestResult> {
    const protocol = protocolOf(row.type);
    const { contract, data } = await protocol.connectionTestCommand(row, {
      cipher: this.cipher,
      callingAeTitle: () => this.callingAeTitle(callingAeTitle),
    });
    return this.ask(protocol.worker, contract, data, row.timeoutMs);
  }

  /** The given calling AE title as the local AE titles spell it, or the default one. */
  private async callingAeTitle(given: string | undefined): Promise<string> {
    if (given === undefined) return (await this.settings.current()).defaultCallingAeTitle;
    const found = await this.localAeTitles.find(given);
    if (found) return found.aeTitle;
    const known = await this.localAeTitles.allTitles();
    const listed = known.slice(0, LISTED).map((title) => `"${title}"`);
    if (known.length > LISTED) listed.push(`and ${known.length - LISTED} more`);
    throw new ConnectionTestError(
      ConnectionTestErrorCode.CallingAeTitleNotLocal,
      known.length === 0
        ? `callingAeTitle "${given}" is not a local AE title, and there are none: create one with POST /api/v1/local-ae-titles first`
        : `callingAeTitle "${given}" is not a local AE title (the local AE titles are ${listed.join(', ')}); add it with POST /api/v1/local-ae-titles or choose one of those`,
      'callingAeTitle',
    );
  }

  private async ask<T extends object>(
    worker: string,
    contract: MessageContract<T>,
    data: T,
    timeoutMs: number,
  ): Promise<ConnectionTestResult> {
    const bound = timeoutMs + RPC_MARGIN_MS;
    try {
      return await this.rpc.request<T, ConnectionTestResult>(contract, data, bound);
    } catch (error) {
      if (error instanceof RpcTimeoutError) {
        throw new ConnectionTestError(
          ConnectionTestErrorCode.WorkerUnavailable,
          `no ${worker} answered within ${bound} ms — is it running?`,
        );
      }
      if (error instanceof RpcRemoteError) {
        throw new ConnectionTestError(
          ConnectionTestErrorCode.WorkerFailed,
          `${worker} could not run the test: ${error.message}`,
        );
      }
      throw error;
    }
  }
}
