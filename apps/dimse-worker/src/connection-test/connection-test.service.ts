import { Injectable } from '@nestjs/common';
import type { ConnectionTestResult, DimseConnectionTestData } from '@pacslink/contracts';
import { echo } from '@pacslink/dimse';

/** The contract's DIMSE connection test: one C-ECHO (PS3.7 9.1.5) from the calling AE title. */
@Injectable()
export class ConnectionTestService {
  async test(data: DimseConnectionTestData): Promise<ConnectionTestResult> {
    const started = Date.now();
    let deadline: NodeJS.Timeout | undefined;
    try {
      // Each phase is bounded by timeoutMs; the race keeps the whole test within it too, so the
      // answer always arrives before config-service's RPC bound (timeoutMs + 5 s).
      const timedOut = new Promise<never>((_, reject) => {
        deadline = setTimeout(
          () =>
            reject(
              new Error(`no answer within ${data.timeoutMs} ms from ${data.host}:${data.port} (C-ECHO)`),
            ),
          data.timeoutMs,
        );
      });
      const echoed = echo({
        host: data.host,
        port: data.port,
        callingAeTitle: data.callingAeTitle,
        calledAeTitle: data.calledAeTitle,
        connectTimeoutMs: data.timeoutMs,
        associationTimeoutMs: data.timeoutMs,
        pduTimeoutMs: data.timeoutMs,
      });
      echoed.catch(() => undefined);
      const { elapsedMs } = await Promise.race([echoed, timedOut]);
      return { ok: true, message: 'Connection established', elapsedMs };
    } catch (error) {
      // DimseError messages are written for people: refused, not found, timed out, rejected by whom.
      return {
        ok: false,
        message: 'Connection failed',
        detail: error instanceof Error ? error.message : String(error),
        elapsedMs: Date.now() - started,
      };
    } finally {
      clearTimeout(deadline);
    }
  }
}
