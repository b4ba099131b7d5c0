import fs from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { generateStudy, type GeneratedStudy } from '@pacslink/testing';
import { storeIo } from './file-io';
import { InvalidDicomError } from './invalid-dicom.error';
import { StorePathError, StudyStore } from './study-store';

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** Every fsync(2) from now on, by the path of its descriptor; `fail` answers EIO for the paths it names. */
function fsyncsSeen(fail: (path: string) => boolean = () => false): string[] {
  const seen: string[] = [];
  const real = fs.fsync;
  jest.spyOn(fs, 'fsync').mockImplementation((fd: number, callback: fs.NoParamCallback) => {
    const path = fs.readlinkSync(`/proc/self/fd/${fd}`);
    seen.push(path);
    if (fail(path)) {
      callback(Object.assign(new Error(`EIO: i/o error, fsync`), { code: 'EIO' }));
      return;
    }
    real(fd, callback);
  });
  return seen;
}

/** `bytes` in chunks of `size`; with `failAfter`, an error instead of the chunks past that offset. */
function chunked(bytes: Buffer, size: number, failAfter?: number): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += size) {
        if (failAfter !== undefined && offset >= failAfter) throw new Error('connection reset');
        yield bytes.subarray(offset, offset + size);
      }
    })(),
  );
}

describe('StudyStore', () => {
  let workDir: string;
  let store: StudyStore;
  let study: GeneratedStudy;
  let first: { bytes: Buffer; sopInstanceUid: string; seriesInstanceUid: string };

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'study-store-'));
    study = await generateStudy(join(workDir, 'source'), {
      series: 1,
      instancesPerSeries: 2,
      instanceBytes: 300_000,
      patient: { charset: 'ISO_IR 144' },
    });
    const [series] = study.series;
    first = {
      bytes: await readFile(series.instances[0].file),
      sopInstanceUid: series.instances[0].sopInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
    };
  });

  beforeEach(() => {
    store = new StudyStore(join(workDir, `store-${Math.random().toString(36).slice(2)}`));
  });

  afterAll(() => rm(workDir, { recursive: true, force: true }));

  it('scans a file another process put in place: what write answered; a file at another path is refused', async () => {
    const stored = await store.write(chunked(first.bytes, 4096));
    expect(await store.scan(stored.path)).toEqual(stored);
    const elsewhere = stored.path.replace(first.sopInstanceUid, '1.2.3');
    await mkdir(dirname(store.absolutePath(elsewhere)), { recursive: true });
    await copyFile(store.absolutePath(stored.path), store.absolutePath(elsewhere));
    await expect(store.scan(elsewhere)).rejects.toThrow(
      new InvalidDicomError(`${elsewhere} holds the instance that belongs at ${stored.path}`),
    );
    await expect(store.scan('../outside.dcm')).rejects.toThrow(StorePathError);
  });

  it('writes a file under its UIDs, byte for byte, and answers what it indexed', async () => {
    const stored = await store.write(chunked(first.bytes, 4096));
    const path = `studies/${study.studyInstanceUid}/${first.seriesInstanceUid}/${first.sopInstanceUid}.dcm`;
    expect(stored).toMatchObject({
      studyInstanceUid: study.studyInstanceUid,
      seriesInstanceUid: first.seriesInstanceUid,
      sopInstanceUid: first.sopInstanceUid,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sizeBytes: first.bytes.length,
      path,
      modality: 'CT',
      patientName: study.patient.name,
      patientId: study.patient.id,
      accessionNumber: study.accessionNumber,
      studyDescription: study.studyDescription,
    });
    expect((await readFile(store.absolutePath(path))).equals(first.bytes)).toBe(true);
    expect((await buffer(store.read(path))).equals(first.bytes)).toBe(true);
    expect(await filesUnder(join(store.rootDir, 'tmp'))).toEqual([]);
  });

  it('leaves nothing behind when the source fails mid-write', async () => {
    await expect(store.write(chunked(first.bytes, 4096, 100_000))).rejects.toThrow('connection reset');
    expect(await filesUnder(store.rootDir)).toEqual([]);
  });

  it('leaves nothing behind when it refuses a file, and says why', async () => {
    const truncated = first.bytes.subarray(0, first.bytes.length - 1000);
    await expect(store.write(chunked(truncated, 4096))).rejects.toThrow(
      new InvalidDicomError(`truncated: the file ends inside an element, after ${truncated.length} bytes`),
    );
    await expect(store.write(Readable.from([Buffer.from('not dicom at all')]))).rejects.toThrow(
      InvalidDicomError,
    );
    expect(await filesUnder(store.rootDir)).toEqual([]);
  });

  it('refuses a file past maxBytes, leaving nothing', async () => {
    await expect(store.write(chunked(first.bytes, 4096), { maxBytes: 10_000 })).rejects.toThrow(
      'the file is larger than the 10000-byte limit',
    );
    expect(await filesUnder(store.rootDir)).toEqual([]);
  });

  it('replaces the file when the same SOP Instance UID comes again', async () => {
    const once = await store.write(chunked(first.bytes, 65536));
    const again = await store.write(chunked(first.bytes, 1000));
    expect(again.path).toBe(once.path);
    expect(await filesUnder(store.rootDir)).toEqual([once.path]);
  });

  it('removes a study, and only its directory', async () => {
    const stored = await store.write(chunked(first.bytes, 65536));
    await store.removeStudy('1.2.3');
    expect(await filesUnder(store.rootDir)).toEqual([stored.path]);
    await store.removeStudy(study.studyInstanceUid);
    expect(await filesUnder(store.rootDir)).toEqual([]);
    await expect(store.removeStudy('..')).rejects.toThrow(StorePathError);
  });

  describe('durability', () => {
    afterEach(() => jest.restoreAllMocks());

    it('fsyncs the file, then its directory, before a write resolves', async () => {
      const fsyncs = fsyncsSeen();
      const stored = await store.write(chunked(first.bytes, 65536));
      const absolute = store.absolutePath(stored.path);
      expect(fsyncs).toHaveLength(2);
      expect(fsyncs[0]).toMatch(/\/tmp\/[^/]+$/);
      expect(fsyncs[1]).toBe(dirname(absolute));
    });

    it('syncFile: false writes with no fsync; syncFiles fsyncs each file once, then each directory once', async () => {
      const fsyncs = fsyncsSeen();
      const [one, two] = study.series[0].instances;
      const a = await store.write(chunked(await readFile(one.file), 65536), { syncFile: false });
      const b = await store.write(chunked(await readFile(two.file), 65536), { syncFile: false });
      expect(fsyncs).toEqual([]);
      await store.syncFiles([a.path, b.path, a.path]);
      const files = [store.absolutePath(a.path), store.absolutePath(b.path)];
      expect(fsyncs.slice(0, 2).sort()).toEqual(files.sort());
      expect(fsyncs.slice(2)).toEqual([dirname(files[0])]);
    });

    it('syncGroup fsyncs each file as it is added, before settle; settle then fsyncs the directory, or rejects with a failure met before', async () => {
      const [one, two] = study.series[0].instances;
      const a = await store.write(chunked(await readFile(one.file), 65536), { syncFile: false });
      const b = await store.write(chunked(await readFile(two.file), 65536), { syncFile: false });
      const [fileA, fileB] = [store.absolutePath(a.path), store.absolutePath(b.path)];
      const fsyncs = fsyncsSeen((path) => path === fileB);
      const group = store.syncGroup();
      group.add(a.path);
      for (let waited = 0; fsyncs.length === 0 && waited < 5_000; waited += 5) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(fsyncs).toEqual([fileA]);
      await group.settle();
      expect(fsyncs).toEqual([fileA, dirname(fileA)]);

      const failing = store.syncGroup();
      failing.add(b.path);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await expect(failing.settle()).rejects.toThrow('EIO');
    });

    it('syncFiles rejects when an fsync fails, and when a file is gone', async () => {
      const stored = await store.write(chunked(first.bytes, 65536), { syncFile: false });
      const absolute = store.absolutePath(stored.path);
      fsyncsSeen((path) => path === absolute);
      await expect(store.syncFiles([stored.path])).rejects.toThrow('EIO');
      jest.restoreAllMocks();
      await rm(absolute);
      await expect(store.syncFiles([stored.path])).rejects.toThrow('ENOENT');
    });
  });

  describe('createAhead', () => {
    afterEach(() => jest.restoreAllMocks());

    /** The spare in spare/ once it is made (the open runs in the thread pool): its path and inode. */
    async function spareOf(ahead: StudyStore): Promise<{ path: string; ino: number }> {
      const directory = join(ahead.rootDir, 'spare');
      for (let waited = 0; waited < 5_000; waited += 10) {
        const names = await readdir(directory).catch(() => []);
        if (names.length === 1) {
          const path = join(directory, names[0]);
          return { path, ino: fs.statSync(path).ino };
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('no spare file made');
    }

    it('a write takes the file made ahead and creates none itself; dropSpare removes the next one', async () => {
      const ahead = new StudyStore(join(workDir, `ahead-${Math.random().toString(36).slice(2)}`), {
        createAhead: true,
      });
      const [one, two] = study.series[0].instances;
      await ahead.write(chunked(await readFile(one.file), 65536));
      const spare = await spareOf(ahead);
      const opened = jest.spyOn(storeIo(), 'open');
      const stored = await ahead.write(chunked(await readFile(two.file), 65536));
      expect(opened.mock.calls.filter(([, flags]) => flags === 'wx')).toEqual([]);
      expect(fs.statSync(ahead.absolutePath(stored.path)).ino).toBe(spare.ino);
      expect((await readFile(ahead.absolutePath(stored.path))).equals(await readFile(two.file))).toBe(true);
      expect((await spareOf(ahead)).path).not.toBe(spare.path);
      await ahead.dropSpare();
      expect(await readdir(join(ahead.rootDir, 'spare'))).toEqual([]);
      expect(await filesUnder(join(ahead.rootDir, 'tmp'))).toEqual([]);
    });

    it('a spare older than a heartbeat is removed, not taken', async () => {
      const ahead = new StudyStore(join(workDir, `ahead-${Math.random().toString(36).slice(2)}`), {
        createAhead: true,
        temporaryHeartbeatMs: 20,
      });
      await ahead.write(chunked(first.bytes, 65536));
      const spare = await spareOf(ahead);
      await new Promise((resolve) => setTimeout(resolve, 60));
      // The write makes its own file (an inode number proves nothing: a removed spare's is reused).
      const opened = jest.spyOn(storeIo(), 'open');
      await ahead.write(chunked(first.bytes, 65536));
      expect(opened.mock.calls.filter(([, flags]) => flags === 'wx')).toHaveLength(1);
      expect(fs.existsSync(spare.path)).toBe(false);
      await ahead.dropSpare();
    });

    it('a failed write leaves nothing of the spare it took', async () => {
      const ahead = new StudyStore(join(workDir, `ahead-${Math.random().toString(36).slice(2)}`), {
        createAhead: true,
      });
      await ahead.write(chunked(first.bytes, 65536));
      const spare = await spareOf(ahead);
      await expect(ahead.write(chunked(first.bytes, 4096, 8192))).rejects.toThrow('connection reset');
      expect(fs.existsSync(spare.path)).toBe(false);
      await ahead.dropSpare();
    });
  });

  it.each([['..'], ['../x'], ['studies/../../x'], ['/etc/passwd'], ['']])('refuses the path %j', (path) => {
    expect(() => store.absolutePath(path)).toThrow(StorePathError);
  });
});
