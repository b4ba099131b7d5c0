import { Injectable } from '@nestjs/common';
import type { ConnectionTestResult, DimseConnectionTestData } from '@pacslink/contracts';
import { DimseError, echo } from '@pacslink/dimse';
import { EgressGuard } from '@pacslink/egress';
import { connectionOptions, withinDeadline } from '../dimse-target';

/** The contract's DIMSE connection test: one C-ECHO (PS3.7 9.1.5) from the calling AE title. */
@Injectable()
export class ConnectionTestService {
  constructor(private readonly egress: EgressGuard) {}

  async test(data: DimseConnectionTestData): Promise<ConnectionTestResult> {
    const started = Date.now();
    try {
      const { elapsedMs } = await withinDeadline(
        echo(connectionOptions(data, this.egress)),
        data.timeoutMs,
        `no answer within ${data.timeoutMs} ms from ${data.host}:${data.port} (C-ECHO)`,
      );
      return { ok: true, message: 'Connection established', elapsedMs };
    } catch (error) {
      // DimseError messages are written for people: refused, not found, timed out, rejected by whom.
      return {
        ok: false,
        message: 'Connection failed',
        detail: error instanceof Error ? error.message : String(error),
        elapsedMs: Date.now() - started,
        ...(error instanceof DimseError ? { code: error.code } : {}),
      };
    }
  }
}
