import type { InstanceOutcomeData } from '@pacslink/contracts';
import type { StudyStore } from '@pacslink/store';
import { DurableOutcomes } from './durable-outcomes';

function path(n: number): string {
  return `studies/1.2/1.2.3/1.2.3.${n}.dcm`;
}

/** A store whose sync groups settle as `settle` says, recording the files of each. */
function setup(settle: () => Promise<void>) {
  const synced: string[][] = [];
  const reported: { outcome: InstanceOutcomeData; bytes?: number; syncedBefore: number }[] = [];
  const store = {
    syncGroup: () => {
      const files: string[] = [];
      return {
        add: (file: string) => files.push(file),
        settle: async () => {
          await settle();
          synced.push(files);
        },
      };
    },
  } as unknown as StudyStore;
  const durable = new DurableOutcomes(store, {
    outcome: (outcome, bytes) => reported.push({ outcome, bytes, syncedBefore: synced.flat().length }),
    fallback: () => undefined,
  });
  return { durable, synced, reported };
}

describe('DurableOutcomes', () => {
  it('reports a stored instance only once its file is synced, 64 files to one sync', async () => {
    const { durable, synced, reported } = setup(() => Promise.resolve());
    for (let n = 1; n <= 63; n++) await durable.stored(`1.2.3.${n}`, path(n), 100 + n);
    expect(reported).toEqual([]);
    await durable.stored('1.2.3.64', path(64), 164);
    // The full group settles in the background: reported once it has.
    await new Promise((resolve) => setImmediate(resolve));
    expect(synced).toEqual([Array.from({ length: 64 }, (_, n) => path(n + 1))]);
    expect(reported).toHaveLength(64);
    expect(reported[0]).toEqual({
      outcome: { sopInstanceUid: '1.2.3.1', status: 'success', path: path(1) },
      bytes: 101,
      syncedBefore: 64,
    });
    await durable.stored('1.2.3.65', path(65), 165);
    await durable.flush();
    expect(synced[1]).toEqual([path(65)]);
    expect(reported.at(-1)?.outcome.sopInstanceUid).toBe('1.2.3.65');
    await durable.flush();
    expect(synced).toHaveLength(2);
  });

  it('takes the next instances while a full group settles; waits only when the next group is full too', async () => {
    const releases: (() => void)[] = [];
    const { durable, reported } = setup(() => new Promise<void>((resolve) => releases.push(resolve)));
    for (let n = 1; n <= 64; n++) await durable.stored(`1.2.3.${n}`, path(n), 1);
    // The first group's fsync has not ended: the next 63 are taken without waiting for it.
    for (let n = 65; n <= 127; n++) await durable.stored(`1.2.3.${n}`, path(n), 1);
    expect(releases).toHaveLength(1);
    expect(reported).toEqual([]);
    let took128 = false;
    const storing128 = durable.stored('1.2.3.128', path(128), 1).then(() => (took128 = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(took128).toBe(false);
    releases[0]();
    await storing128;
    expect(reported).toHaveLength(64);
    releases[1]();
    await durable.flush();
    expect(reported.map((r) => r.outcome.sopInstanceUid)).toEqual(
      Array.from({ length: 128 }, (_, n) => `1.2.3.${n + 1}`),
    );
  });

  it('a group that fails to sync stops the instances after it, and none of its files is reported', async () => {
    let fail = true;
    const { durable, reported } = setup(() =>
      fail ? Promise.reject(new Error('EIO: i/o error, fsync')) : Promise.resolve(),
    );
    for (let n = 1; n <= 64; n++) await durable.stored(`1.2.3.${n}`, path(n), 1);
    fail = false;
    for (let n = 65; n <= 127; n++) await durable.stored(`1.2.3.${n}`, path(n), 1);
    await expect(durable.stored('1.2.3.128', path(128), 1)).rejects.toThrow('EIO');
    expect(reported).toEqual([]);
    // What came after it and synced is reported by the run's last flush.
    await durable.flush();
    expect(reported).toHaveLength(64);
  });

  it('a file waiting a second goes with the next one, under a slow PACS', async () => {
    jest.useFakeTimers({ now: 0, doNotFake: ['setImmediate'] });
    try {
      const { durable, reported } = setup(() => Promise.resolve());
      await durable.stored('1.2.3.1', path(1), 1);
      jest.setSystemTime(1_000);
      await durable.stored('1.2.3.2', path(2), 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(reported.map((r) => r.outcome.sopInstanceUid)).toEqual(['1.2.3.1', '1.2.3.2']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a sync that fails reports none of its files, and says why', async () => {
    const { durable, reported } = setup(() => Promise.reject(new Error('EIO: i/o error, fsync')));
    await durable.stored('1.2.3.1', path(1), 1);
    await expect(durable.flush()).rejects.toThrow('EIO');
    expect(reported).toEqual([]);
  });
});
