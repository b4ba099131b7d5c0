import type { DimseTargetData } from '@pacslink/contracts';
import type { DimseConnectionOptions } from '@pacslink/dimse';
import type { EgressGuard } from '@pacslink/egress';

/**
 * The association to a worklist or MPPS target, every phase bounded by the configuration's
 * timeoutMs, its address checked by the egress guard before anything is opened.
 */
export function connectionOptions(target: DimseTargetData, egress: EgressGuard): DimseConnectionOptions {
  return {
    host: target.host,
    port: target.port,
    callingAeTitle: target.callingAeTitle,
    calledAeTitle: target.calledAeTitle,
    connectTimeoutMs: target.timeoutMs,
    associationTimeoutMs: target.timeoutMs,
    pduTimeoutMs: target.timeoutMs,
    egress,
  };
}
