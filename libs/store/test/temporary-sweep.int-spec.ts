import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { generateStudy } from '@pacslink/testing';
import { StudyStore } from '../src';
import { currentOwner, temporaryFileName, type TemporaryFileOwner } from '../src/temporary-files';

const HOUR = 3_600_000;

/** A real process of this host: `running` until killed, or one that has already exited. */
async function childProcess(running: boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', running ? 'setInterval(() => {}, 1000)' : '']);
  if (!running) await once(child, 'exit');
  return child;
}

describe('StudyStore.sweepTemporaryFiles: what crashed writers left in STORE_DIR/tmp', () => {
  let workDir: string;
  let store: StudyStore;
  let temporaryDir: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'store-sweep-'));
    store = new StudyStore(join(workDir, 'store'));
    temporaryDir = join(store.rootDir, 'tmp');
    await mkdir(temporaryDir, { recursive: true });
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await rm(workDir, { recursive: true, force: true });
  });

  /** A leftover as a writer names it, last written `ageMs` ago. */
  async function leftover(owner: TemporaryFileOwner | undefined, ageMs = 0): Promise<string> {
    const name = owner ? temporaryFileName(owner) : 'f47ac10b-58cc-4372-a567-0e02b2c3d479.part';
    const path = join(temporaryDir, name);
    await writeFile(path, 'DICM half a file');
    const then = new Date(Date.now() - ageMs);
    await utimes(path, then, then);
    return name;
  }

  it('removes at once the file of a writer of this host that no longer runs', async () => {
    const dead = await childProcess(false);
    const name = await leftover({ host: currentOwner().host, pid: dead.pid as number });
    expect(await store.sweepTemporaryFiles(HOUR)).toEqual([name]);
    expect(await readdir(temporaryDir)).toEqual([]);
  });

  it('sweeps STORE_DIR/spare (files made ahead) by the same rules', async () => {
    const dead = await childProcess(false);
    const live = await childProcess(true);
    children.push(live);
    const spareDir = join(store.rootDir, 'spare');
    await mkdir(spareDir, { recursive: true });
    const [deadSpare, liveSpare] = [dead, live].map((child) =>
      temporaryFileName({ host: currentOwner().host, pid: child.pid as number }),
    );
    for (const name of [deadSpare, liveSpare]) await writeFile(join(spareDir, name), '');
    expect(await store.sweepTemporaryFiles(HOUR)).toEqual([deadSpare]);
    expect(await readdir(spareDir)).toEqual([liveSpare]);
  });

  it('keeps the file of a live writer of this host while it is younger than the age limit', async () => {
    const live = await childProcess(true);
    children.push(live);
    const name = await leftover({ host: currentOwner().host, pid: live.pid as number }, HOUR / 2);
    expect(await store.sweepTemporaryFiles(HOUR)).toEqual([]);
    expect(await readdir(temporaryDir)).toEqual([name]);
  });

  it('judges a file of another host or container by its age only: its PID means nothing here', async () => {
    const dead = await childProcess(false);
    // Same host name, another PID namespace (another container on the shared volume).
    const otherContainer = {
      host: `${currentOwner().host.split('~')[0]}~4026530000`,
      pid: dead.pid as number,
    };
    const young = await leftover(otherContainer, HOUR / 2);
    const old = await leftover({ host: 'replica-2~4026531836', pid: 1 }, 2 * HOUR);
    const unnamed = await leftover(undefined, 2 * HOUR);
    expect((await store.sweepTemporaryFiles(HOUR)).sort()).toEqual([old, unnamed].sort());
    expect(await readdir(temporaryDir)).toEqual([young]);
  });

  it('never removes the file it is writing itself, and that write still completes', async () => {
    const study = await generateStudy(join(workDir, 'generated'), { series: 1, instancesPerSeries: 1 });
    const bytes = await readFile(study.files[0]);
    const source = new PassThrough();
    const writing = store.write(source);
    source.write(bytes.subarray(0, 1024));
    let inProgress: string[] = [];
    for (let i = 0; i < 100 && inProgress.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      inProgress = await readdir(temporaryDir);
    }
    expect(inProgress).toHaveLength(1);
    expect(await store.sweepTemporaryFiles(HOUR)).toEqual([]);
    source.end(bytes.subarray(1024));
    const stored = await writing;
    expect((await readFile(store.absolutePath(stored.path))).equals(bytes)).toBe(true);
    expect(await readdir(temporaryDir)).toEqual([]);
  });

  it('keeps the file of a write whose source is idle fresh, for sweepers of other hosts', async () => {
    const heartbeatMs = 50;
    const beating = new StudyStore(store.rootDir, { temporaryHeartbeatMs: heartbeatMs });
    const source = new PassThrough();
    const writing = beating.write(source);
    source.write(Buffer.from('DICM'));
    await new Promise((resolve) => setTimeout(resolve, 10 * heartbeatMs));
    const [name] = await readdir(temporaryDir);
    const { mtimeMs } = await stat(join(temporaryDir, name));
    // Idle for ten heartbeats, yet touched within the last few.
    expect(Date.now() - mtimeMs).toBeLessThan(4 * heartbeatMs);
    source.destroy(new Error('client gone'));
    await expect(writing).rejects.toThrow('client gone');
    expect(await readdir(temporaryDir)).toEqual([]);
  });

  it('has nothing to do when the store never wrote a file', async () => {
    await rm(temporaryDir, { recursive: true });
    expect(await store.sweepTemporaryFiles(HOUR)).toEqual([]);
  });
});
