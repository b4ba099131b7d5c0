import {
  close,
  closeSync,
  fstat,
  fstatSync,
  mkdir,
  mkdirSync,
  open,
  openSync,
  read,
  readFile,
  readFileSync,
  readSync,
  rename,
  renameSync,
  rm,
  rmSync,
  type Stats,
  write,
  writeSync,
} from 'node:fs';

/**
 * How the store's hot paths reach the filesystem (docs/decisions/0007-dicom-network-engine.md,
 * amendment "Network storage"): `sync` calls on the event loop, microseconds on a local disk and
 * measured faster than a thread-pool round trip per call; `pooled` through libuv's thread pool, so
 * that a network filesystem's round trip (or a stalled server) holds one pool thread, not the
 * process: every association, HTTP request, heartbeat and lease report goes on meanwhile.
 */
export type StoreIoMode = 'sync' | 'pooled';

/**
 * The store's file operations, each awaited by its one caller whatever the mode: in `sync` mode
 * the call runs at once and the await costs a microtask; in `pooled` mode it is a pool trip.
 * Failures are the same errors (ErrnoException, the same codes) as rejections in both modes.
 */
export interface FileIo {
  readonly mode: StoreIoMode;
  open(path: string, flags: string): Promise<number>;
  fstat(fd: number): Promise<Stats>;
  /** bytes read into `buffer` at `offset`, from the file at `position` */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** bytes written from `buffer` at `offset`, at the file's current position */
  write(fd: number, buffer: Buffer, offset: number): Promise<number>;
  close(fd: number): Promise<void>;
  /** mkdir -p */
  mkdirs(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** rm -f of a file */
  remove(path: string): Promise<void>;
  readFile(path: string): Promise<Buffer>;
}

// async without await on purpose: it turns the synchronous call's throw into the rejection the
// pooled calls give, with no closure per call.
/* eslint-disable @typescript-eslint/require-await */
const syncFileIo: FileIo = {
  mode: 'sync',
  open: async (path, flags) => openSync(path, flags),
  fstat: async (fd) => fstatSync(fd),
  read: async (fd, buffer, offset, length, position) => readSync(fd, buffer, offset, length, position),
  write: async (fd, buffer, offset) => writeSync(fd, buffer, offset),
  close: async (fd) => closeSync(fd),
  mkdirs: async (path) => void mkdirSync(path, { recursive: true }),
  rename: async (from, to) => renameSync(from, to),
  remove: async (path) => rmSync(path, { force: true }),
  readFile: async (path) => readFileSync(path),
};
/* eslint-enable @typescript-eslint/require-await */

type Callback<T> = (error: NodeJS.ErrnoException | null, value: T) => void;

/** One fs callback call as a promise, on the raw descriptor (no FileHandle object per file). */
function pool<T>(start: (done: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
}

const pooledFileIo: FileIo = {
  mode: 'pooled',
  open: (path, flags) => pool((done) => open(path, flags, done)),
  fstat: (fd) => pool((done) => fstat(fd, done)),
  read: (fd, buffer, offset, length, position) =>
    pool((done) => read(fd, buffer, offset, length, position, done)),
  write: (fd, buffer, offset) => pool((done) => write(fd, buffer, offset, done)),
  close: (fd) => pool<void>((done) => close(fd, (error) => done(error ?? null, undefined))),
  mkdirs: (path) => pool<void>((done) => mkdir(path, { recursive: true }, (error) => done(error, undefined))),
  rename: (from, to) => pool<void>((done) => rename(from, to, (error) => done(error, undefined))),
  remove: (path) => pool<void>((done) => rm(path, { force: true }, (error) => done(error, undefined))),
  readFile: (path) => pool((done) => readFile(path, done)),
};

export function fileIoOf(mode: StoreIoMode): FileIo {
  return mode === 'pooled' ? pooledFileIo : syncFileIo;
}

/**
 * The process's mode, set once at startup by the service (configureStoreIo). Before that, and in a
 * test that starts no service, the mode STORE_IO names when it names one (a test run in pooled
 * mode), else sync.
 */
let current: FileIo = fileIoOf(process.env['STORE_IO'] === 'pooled' ? 'pooled' : 'sync');

/** The store's file I/O of this process; callers ask at each operation, so it is never stale. */
export function storeIo(): FileIo {
  return current;
}

export function useStoreIo(mode: StoreIoMode): FileIo {
  current = fileIoOf(mode);
  return current;
}
