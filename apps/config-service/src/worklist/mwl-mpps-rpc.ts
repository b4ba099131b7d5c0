import type { MessageContract } from '@pacslink/contracts';
import { RpcTimeoutError, type RpcClient } from '@pacslink/messaging';
import { WorklistError, WorklistErrorCode } from './worklist.errors';

const MWL_MPPS_SERVICE = 'mwl-mpps-service';

/** One request to mwl-mpps-service; no answer within `bound` ms is ServiceUnavailable (503). */
export async function askMwlMpps<T extends object, R>(
  rpc: RpcClient,
  contract: MessageContract<T>,
  data: T,
  bound: number,
): Promise<R> {
  try {
    return await rpc.request<T, R>(contract, data, bound);
  } catch (error) {
    if (error instanceof RpcTimeoutError) {
      throw new WorklistError(
        WorklistErrorCode.ServiceUnavailable,
        `no ${MWL_MPPS_SERVICE} answered within ${bound} ms — is it running?`,
      );
    }
    throw error;
  }
}
