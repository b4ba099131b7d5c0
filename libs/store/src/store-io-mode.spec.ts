import { chooseStoreIo, NETWORK_FILESYSTEMS, storeIoLogLine } from './store-io-mode';

const EXT4 = 0xef53;
const XFS = 0x58465342;
const TMPFS = 0x01021994;

describe('chooseStoreIo: the store file I/O mode from STORE_IO and STORE_DIR filesystem type', () => {
  it.each([
    [0x6969, 'nfs'],
    [0x517b, 'smb'],
    [0xfe534d42, 'smb2'],
    [0xff534d42, 'cifs'],
    [0x00c36400, 'ceph'],
    [0x65735546, 'fuse'],
    [0x5346414f, 'afs'],
    [0x01021997, '9p'],
  ])('auto on 0x%s (%s): pooled, the filesystem named', (type, name) => {
    expect(chooseStoreIo('auto', type)).toEqual({
      mode: 'pooled',
      filesystemType: `0x${type.toString(16)}`,
      reason: `network or FUSE filesystem (${name})`,
    });
  });

  it.each([EXT4, XFS, TMPFS])('auto on a local filesystem (0x%s): sync', (type) => {
    expect(chooseStoreIo('auto', type)).toEqual({
      mode: 'sync',
      filesystemType: `0x${type.toString(16)}`,
      reason: 'local filesystem',
    });
  });

  it('auto with the type unknown: sync, and says so', () => {
    expect(chooseStoreIo('auto', undefined)).toEqual({
      mode: 'sync',
      filesystemType: undefined,
      reason: 'filesystem type unknown: taken as local',
    });
  });

  it('sync or pooled forces the mode whatever the filesystem', () => {
    expect(chooseStoreIo('sync', 0x6969)).toEqual({
      mode: 'sync',
      filesystemType: '0x6969',
      reason: 'STORE_IO=sync',
    });
    expect(chooseStoreIo('pooled', EXT4)).toEqual({
      mode: 'pooled',
      filesystemType: '0xef53',
      reason: 'STORE_IO=pooled',
    });
  });

  it('the network filesystems are the magic numbers of linux/magic.h', () => {
    expect(Object.fromEntries([...NETWORK_FILESYSTEMS].map(([type, name]) => [name, type]))).toEqual({
      nfs: 0x6969, // NFS_SUPER_MAGIC
      smb: 0x517b, // SMB_SUPER_MAGIC
      smb2: 0xfe534d42, // SMB2_SUPER_MAGIC
      cifs: 0xff534d42, // CIFS_SUPER_MAGIC
      ceph: 0x00c36400, // CEPH_SUPER_MAGIC
      fuse: 0x65735546, // FUSE_SUPER_MAGIC
      afs: 0x5346414f, // AFS_SUPER_MAGIC
      kafs: 0x6b414653, // AFS_FS_MAGIC
      '9p': 0x01021997, // V9FS_MAGIC
    });
  });
});

describe('storeIoLogLine', () => {
  it('names the mode, the filesystem type and why, under one message', () => {
    expect(storeIoLogLine({ mode: 'pooled', filesystemType: '0x6969', reason: 'nfs' })).toEqual({
      msg: 'store file I/O',
      storeIo: 'pooled',
      filesystemType: '0x6969',
      reason: 'nfs',
    });
  });
});
