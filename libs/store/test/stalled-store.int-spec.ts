import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { longestEventLoopGap, stalledFile } from '@pacslink/testing';
import { StudyStore, storeIo, useStoreIo, type StoreIoMode } from '../src';

/** The writer comes this long after the sync starts: the "server" answers after 1.5 s. */
const STALL_MS = 1_500;
const STALLED = 'studies/1.2.3/1.2.3.4/1.2.3.4.5.dcm';

describe('StudyStore.syncFiles on a file whose open stalls (a FIFO standing in for a stalled network filesystem)', () => {
  let workDir: string;
  let store: StudyStore;
  const initial = storeIo().mode;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'store-stalled-'));
    store = new StudyStore(join(workDir, 'store'));
    await mkdir(join(store.rootDir, 'studies/1.2.3/1.2.3.4'), { recursive: true });
  });

  afterEach(async () => {
    useStoreIo(initial);
    await rm(workDir, { recursive: true, force: true });
  });

  async function syncWhileStalled(mode: StoreIoMode) {
    useStoreIo(mode);
    const file = stalledFile(store.absolutePath(STALLED));
    const released = file.release(STALL_MS);
    const { settled, gapMs } = await longestEventLoopGap(() => store.syncFiles([STALLED]));
    await released;
    return { settled, gapMs };
  }

  // A FIFO cannot be fsynced (EINVAL): the sync fails once the open is through, the same in both modes.
  it('pooled: the event loop keeps ticking while the open waits; the failure comes once it opens', async () => {
    const { settled, gapMs } = await syncWhileStalled('pooled');
    expect(gapMs).toBeLessThan(STALL_MS / 3);
    expect(settled).toMatchObject({ status: 'rejected', reason: { code: 'EINVAL' } });
  });

  it('sync (the measured choice for local disks): the same open holds the event loop until it opens', async () => {
    const { settled, gapMs } = await syncWhileStalled('sync');
    expect(gapMs).toBeGreaterThan(STALL_MS * 0.8);
    expect(settled).toMatchObject({ status: 'rejected', reason: { code: 'EINVAL' } });
  });
});
