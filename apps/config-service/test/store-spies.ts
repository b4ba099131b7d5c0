import { FileSyncGroup, StudyStore, type WriteOptions } from '@pacslink/store';

/** What one FileSyncGroup was given, and when it settled. */
export interface GroupSync {
  /** what was added to the group, relative to the store */
  paths: string[];
  settleCalledAt?: number;
  settledAt?: number;
}

/**
 * Spies on the study store's writes and sync groups of every StudyStore in this process (a
 * worker started in the test's process): the options of each write, and what each group was
 * given and when it settled. The store's real writes and fsyncs run. `beforeSettle` runs before
 * a group's fsyncs (to hold them, or to throw as a failing disk would). `reset()` between cases;
 * `jest.restoreAllMocks()` ends the spying.
 */
export function spyOnStoreSyncs(beforeSettle: () => Promise<void> = () => Promise.resolve()) {
  const spied = { writes: [] as WriteOptions[], groups: new Map<FileSyncGroup, GroupSync>() };
  const groupOf = (group: FileSyncGroup): GroupSync => {
    let sync = spied.groups.get(group);
    if (sync === undefined) spied.groups.set(group, (sync = { paths: [] }));
    return sync;
  };
  const write = StudyStore.prototype.write;
  jest.spyOn(StudyStore.prototype, 'write').mockImplementation(function (this: StudyStore, source, options) {
    spied.writes.push(options ?? {});
    return write.call(this, source, options);
  });
  const add = FileSyncGroup.prototype.add;
  jest.spyOn(FileSyncGroup.prototype, 'add').mockImplementation(function (this: FileSyncGroup, path) {
    groupOf(this).paths.push(path);
    add.call(this, path);
  });
  const settle = FileSyncGroup.prototype.settle;
  jest.spyOn(FileSyncGroup.prototype, 'settle').mockImplementation(async function (this: FileSyncGroup) {
    const sync = groupOf(this);
    sync.settleCalledAt = Date.now();
    await beforeSettle();
    await settle.call(this);
    sync.settledAt = Date.now();
  });
  return {
    get writes(): readonly WriteOptions[] {
      return spied.writes;
    },
    get groups(): ReadonlyMap<FileSyncGroup, GroupSync> {
      return spied.groups;
    },
    reset(): void {
      spied.writes = [];
      spied.groups = new Map();
    },
  };
}
