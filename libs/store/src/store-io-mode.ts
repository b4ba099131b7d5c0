import { statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { useStoreIo, type StoreIoMode } from './file-io';

/** STORE_IO: `auto` picks by STORE_DIR's filesystem; `sync` or `pooled` forces the mode. */
export const STORE_IO_SETTINGS = ['auto', 'sync', 'pooled'] as const;
export type StoreIoSetting = (typeof STORE_IO_SETTINGS)[number];

/**
 * Filesystems whose calls may wait on a server or a user-space daemon, by statfs(2) f_type
 * (linux/magic.h): on these a synchronous call can hold the event loop for a round trip or, with
 * the server stalled, for seconds (`hard` NFS mounts: until it answers).
 */
export const NETWORK_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x6969, 'nfs'],
  [0x517b, 'smb'],
  [0xfe534d42, 'smb2'],
  [0xff534d42, 'cifs'],
  [0x00c36400, 'ceph'],
  [0x65735546, 'fuse'],
  [0x5346414f, 'afs'],
  [0x6b414653, 'kafs'],
  [0x01021997, '9p'],
]);

export interface StoreIoChoice {
  mode: StoreIoMode;
  /** statfs f_type as 0x hex, undefined when it could not be read */
  filesystemType: string | undefined;
  reason: string;
}

function hex(type: number): string {
  return `0x${type.toString(16)}`;
}

/** The mode for a setting and STORE_DIR's filesystem type (statfs f_type; undefined: unknown). */
export function chooseStoreIo(setting: StoreIoSetting, filesystemType: number | undefined): StoreIoChoice {
  const type = filesystemType === undefined ? undefined : hex(filesystemType);
  if (setting !== 'auto') return { mode: setting, filesystemType: type, reason: `STORE_IO=${setting}` };
  if (filesystemType === undefined) {
    return { mode: 'sync', filesystemType: type, reason: 'filesystem type unknown: taken as local' };
  }
  const network = NETWORK_FILESYSTEMS.get(filesystemType);
  return network === undefined
    ? { mode: 'sync', filesystemType: type, reason: 'local filesystem' }
    : { mode: 'pooled', filesystemType: type, reason: `network or FUSE filesystem (${network})` };
}

/** statfs f_type of `path`, or of its nearest existing parent (STORE_DIR is made at the first write). */
export function filesystemTypeOf(path: string): number | undefined {
  for (let at = resolve(path); ; at = dirname(at)) {
    try {
      return statfsSync(at).type;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) return undefined;
    }
  }
}

/** Chooses the process's mode for STORE_DIR once, at startup; the service logs the answer. */
export function configureStoreIo(storeDir: string, setting: StoreIoSetting): StoreIoChoice {
  const choice = chooseStoreIo(setting, filesystemTypeOf(storeDir));
  useStoreIo(choice.mode);
  return choice;
}

/** The startup log line of the choice (msg, mode, filesystem type, why), the same in every service. */
export function storeIoLogLine(choice: StoreIoChoice): Record<string, unknown> {
  return {
    msg: 'store file I/O',
    storeIo: choice.mode,
    filesystemType: choice.filesystemType,
    reason: choice.reason,
  };
}
