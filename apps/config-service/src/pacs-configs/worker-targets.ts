import type { ConnectionTestAuthData } from '@pacslink/contracts';
import type { SecretCipher } from '@pacslink/secrets';
import type { PacsConfig } from './pacs-config.entity';
import { sealedForWorker } from './pacs-config-secrets';

function present<T>(value: T | null, column: string): T {
  // The table's CHECK constraints guarantee these for the row's type.
  if (value === null) throw new Error(`pacs_config.${column} is NULL on a row whose type requires it`);
  return value;
}

/** Where a dimse-worker request goes: the PACS's address, AE title and timeout. */
export function dimseTarget(row: PacsConfig): {
  host: string;
  port: number;
  calledAeTitle: string;
  timeoutMs: number;
} {
  return {
    host: present(row.host, 'host'),
    port: present(row.port, 'port'),
    calledAeTitle: row.aeTitle,
    timeoutMs: row.timeoutMs,
  };
}

/** The AE title a DIMSE PACS sends a C-MOVE's instances to (our Storage SCP's). */
export function moveDestinationOf(row: PacsConfig): string {
  return present(row.moveDestinationAeTitle, 'move_destination_ae_title');
}

/**
 * Where a dicomweb-worker request goes, with its auth: the secret stays ciphertext bound to
 * (pacs_config, row id, field, destination), never the plaintext; the worker decrypts it just
 * before use, for the destination of the URLs in this request only.
 */
export function dicomwebTarget(
  row: PacsConfig,
  cipher: Pick<SecretCipher, 'reencrypt'>,
): {
  url: string;
  pacsAeTitle: string;
  sourceAeTitle?: string;
  auth: ConnectionTestAuthData;
  timeoutMs: number;
} {
  return {
    url: present(row.url, 'url'),
    pacsAeTitle: row.aeTitle,
    ...(row.sourceAeTitle !== null ? { sourceAeTitle: row.sourceAeTitle } : {}),
    auth: {
      method: present(row.authMethod, 'auth_method'),
      ...(row.authUsername !== null ? { username: row.authUsername } : {}),
      ...(row.authTokenUrl !== null ? { tokenUrl: row.authTokenUrl } : {}),
      ...(row.authClientId !== null ? { clientId: row.authClientId } : {}),
      ...(row.authScope !== null ? { scope: row.authScope } : {}),
      ...(row.authSecret !== null ? { sealedSecret: sealedForWorker(cipher, row) } : {}),
      secretContextId: row.id,
    },
    timeoutMs: row.timeoutMs,
  };
}
