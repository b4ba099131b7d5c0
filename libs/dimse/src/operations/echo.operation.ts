import { exchangeOnOwnAssociation, ExchangeFailure, nextResponse } from '../association/request-exchange';
import type { DimseConnectionOptions } from '../dimse.options';
import { Status } from '../protocol/status';
import { SopClassUid } from '../protocol/uids';
import { CommandField, encodeCEchoRq } from '../store/command-set';

export interface EchoResult {
  ok: true;
  /** from the call to the end of the association: connect, associate, C-ECHO, release */
  elapsedMs: number;
}

const MESSAGE_ID = 1;

/**
 * C-ECHO (PS3.7 9.1.5): opens an association for Verification, sends one C-ECHO-RQ, releases.
 * Resolves when the peer answered 0x0000, the only success of a C-ECHO (PS3.4 A); rejects with a
 * DimseError otherwise.
 */
export async function echo(options: DimseConnectionOptions): Promise<EchoResult> {
  const { elapsedMs } = await exchangeOnOwnAssociation(options, {
    command: 'C-ECHO',
    abstractSyntaxUid: SopClassUid.Verification,
    run: async (association, context) => {
      const buffers: Buffer[] = [];
      const request = encodeCEchoRq({ sopClassUid: SopClassUid.Verification, messageId: MESSAGE_ID });
      association.pDataBuffers(context.id, true, request, true, buffers);
      association.write(buffers);
      const { status, errorComment } = await nextResponse(association, CommandField.CEchoRsp, MESSAGE_ID);
      if (status !== Status.Success)
        throw new ExchangeFailure({ kind: 'status', status, errorComment }, true);
      return { value: undefined };
    },
  });
  return { ok: true, elapsedMs };
}
