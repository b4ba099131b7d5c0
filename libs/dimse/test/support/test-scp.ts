import { StorageScp, type StorageScpOptions } from '../../src/scp/storage-scp';
import { EXPLICIT_VR_LE } from './raw-requestor';

/**
 * A StorageScp on loopback, any free port, AE title PACSLINK, taking any caller and Explicit VR LE
 * storage; `options` says how it stores and whatever else a test needs otherwise. Listening.
 */
export async function listeningScp(
  options: Partial<StorageScpOptions> & Pick<StorageScpOptions, 'store'>,
): Promise<{ scp: StorageScp; port: number }> {
  const scp = new StorageScp({
    aeTitle: 'PACSLINK',
    port: 0,
    host: '127.0.0.1',
    maxAssociations: 2,
    maxAssociationsPerCaller: 2,
    artimTimeoutMs: 1_000,
    idleTimeoutMs: 10_000,
    maxPduLength: 16 * 1024,
    storageTransferSyntaxes: [EXPLICIT_VR_LE],
    identifyCaller: (aeTitle) => Promise.resolve({ id: 'p1', aeTitle }),
    ...options,
  });
  return { scp, port: (await scp.listen()).port };
}
