import { runAssociation, type DimseOperation } from '../association/association.runner';
import { dcmjsDimseTransport } from '../association/dcmjs-dimse.transport';
import type { DimseConnectionOptions } from '../dimse.options';
import { Status } from '../protocol/status';
import { SopClassUid } from '../protocol/uids';

export interface EchoResult {
  ok: true;
  /** from the call to the end of the association: connect, associate, C-ECHO, release */
  elapsedMs: number;
}

/** PS3.7 9.1.5 / PS3.4 A: the only success of a C-ECHO is 0x0000; anything else is a failure. */
export function echoOperation(): DimseOperation<void> {
  return {
    abstractSyntaxUid: SopClassUid.Verification,
    request: { command: 'C-ECHO' },
    onResponse: (response) =>
      response.status === Status.Success
        ? undefined
        : { kind: 'status', status: response.status, errorComment: response.errorComment },
    result: () => undefined,
  };
}

/**
 * C-ECHO: opens an association for Verification, sends one C-ECHO-RQ, releases. Resolves when the
 * peer answered 0x0000; rejects with a DimseError otherwise.
 */
export async function echo(options: DimseConnectionOptions): Promise<EchoResult> {
  const { elapsedMs } = await runAssociation(options, echoOperation(), dcmjsDimseTransport);
  return { ok: true, elapsedMs };
}
