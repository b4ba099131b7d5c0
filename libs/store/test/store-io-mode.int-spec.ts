import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureStoreIo, filesystemTypeOf, NETWORK_FILESYSTEMS, storeIo, useStoreIo } from '../src';

describe('configureStoreIo: the mode of this process, from STORE_DIR as the filesystem has it', () => {
  const initial = storeIo().mode;
  const local = statfsSync(tmpdir()).type;
  // STORE_DIR before the first write: it does not exist yet, its nearest parent does.
  const storeDir = join(tmpdir(), `store-io-${process.pid}`, 'not', 'made', 'yet');

  afterEach(() => useStoreIo(initial));

  it("reads the type of STORE_DIR's nearest existing directory", () => {
    expect(filesystemTypeOf(storeDir)).toBe(local);
  });

  it("auto on this machine's local temporary directory: sync, and the store's calls are sync from then on", () => {
    // The test runs on a local disk (a CI runner, a workstation); on a network one this says so.
    expect(NETWORK_FILESYSTEMS.has(local)).toBe(false);
    useStoreIo('pooled');
    expect(configureStoreIo(storeDir, 'auto')).toEqual({
      mode: 'sync',
      filesystemType: `0x${local.toString(16)}`,
      reason: 'local filesystem',
    });
    expect(storeIo().mode).toBe('sync');
  });

  it('pooled forced: the store calls through the thread pool from then on', () => {
    expect(configureStoreIo(storeDir, 'pooled')).toMatchObject({ mode: 'pooled', reason: 'STORE_IO=pooled' });
    expect(storeIo().mode).toBe('pooled');
  });
});
