import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeIo, useStoreIo, type StoreIoMode } from '@pacslink/store';
import { longestEventLoopGap, stalledFile } from '@pacslink/testing';
import { openPart10 } from '../src/store/part10-file';

/** The writer comes this long after the open starts: the "server" answers after 1.5 s. */
const STALL_MS = 1_500;

describe('openPart10 on a file whose open stalls (a FIFO standing in for a stalled network filesystem)', () => {
  let workDir: string;
  const initial = storeIo().mode;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'part10-stalled-'));
  });

  afterEach(async () => {
    useStoreIo(initial);
    await rm(workDir, { recursive: true, force: true });
  });

  async function openWhileStalled(mode: StoreIoMode) {
    useStoreIo(mode);
    const path = join(workDir, 'instance.dcm');
    const file = stalledFile(path);
    const released = file.release(STALL_MS);
    const { settled, gapMs } = await longestEventLoopGap(() => openPart10(path));
    await released;
    return { settled, gapMs, path };
  }

  it('pooled: the event loop keeps ticking while the open waits, and the answer comes once the file opens', async () => {
    const { settled, gapMs, path } = await openWhileStalled('pooled');
    expect(gapMs).toBeLessThan(STALL_MS / 3);
    expect(settled).toEqual({
      status: 'fulfilled',
      value: { ok: false, reason: `${path}: not a regular file` },
    });
  });

  it('sync (the measured choice for local disks): the same open holds the event loop until the file opens', async () => {
    const { settled, gapMs, path } = await openWhileStalled('sync');
    expect(gapMs).toBeGreaterThan(STALL_MS * 0.8);
    expect(settled).toEqual({
      status: 'fulfilled',
      value: { ok: false, reason: `${path}: not a regular file` },
    });
  });
});
