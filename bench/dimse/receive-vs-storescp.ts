/**
 * Receiving: DCMTK `storescu` → the built dimse-worker's Storage SCP, once per SCP_DURABILITY
 * (`instance`: fsynced before each C-STORE answer; `association`: before the release), against
 * `storescu` → DCMTK `storescp`, same files, same disk, in turn, the received files checked and
 * deleted after every run. Also the peak RSS (VmHWM) of each receiver during each run.
 *
 *   npm run build   # the worker runs from dist/, as deployed
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/dimse/receive-vs-storescp.ts \
 *     [--runs 3] [--shape large|small|2gb (comma-separated), both (default) or all] [--runs-2gb 1] [--only storescp,instance,association] [--keep DIR] [--keep-logs DIR]
 *     [--receive-in DIR] [--worker-node-args '--cpu-prof --cpu-prof-dir=DIR']
 *
 * Our side is dist/apps/dimse-worker/main.js with the NODE_OPTIONS of k8s/base/dimse-worker.yaml
 * (its heap cap, --max-old-space-size=256), two of them (one per SCP_DURABILITY, each on its own
 * port, the idle one costing nothing), and dist/apps/config-service/main.js, which tells the
 * workers who may call (the DIMSE PACS configuration created here with storescu's AE title) and
 * indexes what it received. The time is the storescu process's wall time (one association, every
 * file); config-service's indexing follows the association and is waited for, untimed, so that it
 * does not load the next run. --keep DIR generates each study once into DIR and reuses it.
 * --receive-in DIR puts both receivers' output (the worker's STORE_DIR, storescp's -od) under DIR
 * instead of the system's temporary directory: e.g. /dev/shm, where fsync costs nothing, to
 * measure the engines without the disk. --worker-node-args passes node options to the worker that
 * NODE_OPTIONS refuses (a CPU profile is written when the worker stops).
 *
 * Needs Postgres and RabbitMQ with the management plugin (DATABASE_URL, AMQP_URL,
 * RABBITMQ_MANAGEMENT_URL) and DCMTK. Not a test: it measures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateStudy, runDcmtk, type GeneratedStudy, freePort } from '@pacslink/testing';
import { Cleanup } from '../export/cleanup';
import { log } from '../export/log';
import { peakMemoryDuring } from '../export/memory';
import { startPacslink } from '../export/pacslink-services';
import { argument, loadAverage, median, type Comparison } from './common';

/**
 * The two shapes, and a 2 GB study for the memory bound: a thin-slice CT of four series,
 * 4000 slices of 512 × 512 × 16 bit (0.5 MB each), the common shape of a large CT or MR study.
 */
const SHAPES = {
  large: { series: 2, instancesPerSeries: 100, instanceBytes: 524_288 },
  small: { series: 4, instancesPerSeries: 500, instanceBytes: 9_400 },
  '2gb': { series: 4, instancesPerSeries: 1000, instanceBytes: 524_288 },
} as const;
type Shape = keyof typeof SHAPES;

/** The peak RSS bound (the worker runs with its manifest's heap cap, pacslink-services.ts). */
export const WORKER_RSS_BOUND_MB = 256;
const SCP_AE_TITLE = 'PACSLINK';
const STORESCP_AE_TITLE = 'BENCHSCP';
const CALLING_AE_TITLE = 'STORESCU';
const INDEXED_TIMEOUT_MS = 300_000;

/** storescp, or the worker with that SCP_DURABILITY. */
const RECEIVERS = ['storescp', 'instance', 'association'] as const;
type Receiver = (typeof RECEIVERS)[number];
const WORKER_OF = { instance: 'dimse-worker', association: 'dimse-worker-association' } as const;

export interface ReceiveRun {
  shape: Shape;
  receiver: Receiver;
  seconds: number;
  peakRssMb: number;
  cpuSeconds: number;
}

export interface ReceiveResult {
  comparisons: Comparison[];
  runs: ReceiveRun[];
  /** Peak RSS over all runs of a shape, per receiver. */
  peaks: { shape: Shape; receiver: Receiver; peakRssMb: number }[];
  load: { start: string; end: string };
}

interface Peer {
  aeTitle: string;
  port: number;
  pid: number;
}

/** Source data set sizes by SOP Instance UID: what every received file must hold. */
type Expected = Map<string, number>;

/** A Part 10 file's data set length: its size less the preamble, "DICM" and the group 2 it declares. */
async function dataSetBytes(path: string): Promise<number> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(144);
    const { bytesRead } = await file.read(head, 0, 144, 0);
    if (bytesRead < 144 || head.toString('latin1', 128, 132) !== 'DICM') {
      throw new Error(`${path} is not a Part 10 file`);
    }
    return (await file.stat()).size - (144 + head.readUInt32LE(140));
  } finally {
    await file.close();
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/**
 * Every instance arrived, whole: one file per SOP Instance UID (ours: `<uid>.dcm`; storescp:
 * `<Modality>.<uid>`), each with the source's data set length. A fast wrong answer is no result.
 */
async function checkReceived(files: readonly string[], expected: Expected, uidOf: (name: string) => string) {
  const seen = new Set<string>();
  for (const file of files) {
    const uid = uidOf(basename(file));
    const want = expected.get(uid);
    if (want === undefined) throw new Error(`received an unexpected file ${file}`);
    const got = await dataSetBytes(file);
    if (got !== want) throw new Error(`${file}: data set of ${got} bytes, sent ${want}`);
    seen.add(uid);
  }
  if (seen.size !== expected.size) throw new Error(`received ${seen.size} of ${expected.size} instances`);
}

/** user + system CPU seconds of a process so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function studyOf(shape: Shape, workDir: string, reuse: boolean): Promise<GeneratedStudy> {
  const manifest = join(workDir, `${shape}.json`);
  if (reuse) {
    const saved = await readFile(manifest, 'utf8').catch(() => undefined);
    if (saved !== undefined) return JSON.parse(saved) as GeneratedStudy;
    await mkdir(workDir, { recursive: true });
  }
  log(`generating the ${shape} study`);
  const study = await generateStudy(workDir, SHAPES[shape]);
  if (reuse) await writeFile(manifest, JSON.stringify(study));
  return study;
}

/** DCMTK storescp as the test peers run it (scripts/test-peers.sh), TCP_NODELAY=1, into `dir`. */
async function startStorescp(dir: string, cleanup: Cleanup): Promise<Peer> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    'storescp',
    ['--single-process', '-aet', STORESCP_AE_TITLE, '+xa', '-od', dir, String(port)],
    { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' },
  );
  if (child.pid === undefined) throw new Error('could not start storescp');
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  cleanup.add('stop storescp', async () => {
    child.kill('SIGTERM');
    await exited;
  });
  await echoUntilAnswered(STORESCP_AE_TITLE, port);
  return { aeTitle: STORESCP_AE_TITLE, port, pid: child.pid };
}

/** echoscu until the peer answers: it listens, and (ours) knows our calling AE title. */
async function echoUntilAnswered(aeTitle: string, port: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await runDcmtk('echoscu', ['-aet', CALLING_AE_TITLE, '-aec', aeTitle, '127.0.0.1', String(port)]);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

async function api<T>(apiUrl: string, method: string, path: string, body?: unknown): Promise<[number, T]> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  return [response.status, (text ? JSON.parse(text) : undefined) as T];
}

/** config-service has indexed the association's report (it follows the association): wait, untimed. */
async function waitIndexed(apiUrl: string, studyInstanceUid: string, instances: number): Promise<void> {
  const deadline = Date.now() + INDEXED_TIMEOUT_MS;
  for (;;) {
    const [status, study] = await api<{ instanceCount?: number }>(
      apiUrl,
      'GET',
      `/studies/${studyInstanceUid}`,
    );
    if (status === 200 && study.instanceCount === instances) return;
    if (Date.now() > deadline) throw new Error(`config-service did not index ${instances} instances`);
    await sleep(250);
  }
}

export async function benchReceive(argv: readonly string[] = process.argv): Promise<ReceiveResult> {
  const runs = Number(argument('runs', '3', argv));
  const runs2gb = Number(argument('runs-2gb', '1', argv));
  const shapeArgument = argument('shape', 'both', argv);
  const shapes = (
    shapeArgument === 'both' ? 'large,small' : shapeArgument === 'all' ? 'large,small,2gb' : shapeArgument
  ).split(',') as Shape[];
  if (!shapes.every((shape) => shape in SHAPES))
    throw new Error(`--shape large|small|2gb, comma-separated, both or all`);
  const order = argument('only', RECEIVERS.join(','), argv).split(',') as Receiver[];
  if (!order.every((receiver) => RECEIVERS.includes(receiver)))
    throw new Error(`--only ${RECEIVERS.join(',')} (comma-separated)`);
  const keep = argument('keep', '', argv);
  const workerNodeArgs = argument('worker-node-args', '', argv)
    .split(' ')
    .filter((word) => word !== '');
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const load = { start: loadAverage(), end: '' };
  log(`load average at start: ${load.start}`);
  const workDir = await mkdtemp(join(argument('receive-in', tmpdir(), argv), 'pacslink-bench-receive-'));
  cleanup.add(`remove ${workDir}`, () => rm(workDir, { recursive: true, force: true }));
  const keepLogs = argument('keep-logs', '', argv);
  if (keepLogs !== '') {
    // Runs after the services have stopped (cleanup goes newest first), before workDir goes.
    cleanup.add(`copy the services' logs to ${keepLogs}`, () =>
      cp(join(workDir, 'logs'), keepLogs, { recursive: true }),
    );
  }
  const studiesDir = keep === '' ? join(workDir, 'studies') : keep;
  const result: ReceiveResult = { comparisons: [], runs: [], peaks: [], load };
  try {
    const stack = await startPacslink(workDir, cleanup, {
      apps: ['config-service', 'dimse-worker'],
      env: {
        'dimse-worker': { SCP_AE_TITLE, SCP_DURABILITY: 'instance' },
      },
      nodeArgs: { 'dimse-worker': workerNodeArgs },
      replicas: {
        [WORKER_OF.association]: { app: 'dimse-worker', env: { SCP_DURABILITY: 'association' } },
      },
    });
    const [created] = await api(stack.apiUrl, 'POST', '/pacs-configs', {
      type: 'dimse',
      name: 'bench storescu pushing to the Storage SCP',
      aeTitle: CALLING_AE_TITLE,
      host: '127.0.0.1',
      port: 104,
      cStore: true,
    });
    if (created !== 201) throw new Error(`POST /pacs-configs answered ${created}`);
    const workers = {
      instance: stack.services['dimse-worker'],
      association: stack.replicas[WORKER_OF.association],
    };
    const peers = {} as Record<Receiver, Peer>;
    for (const durability of ['instance', 'association'] as const) {
      const worker = workers[durability];
      peers[durability] = { aeTitle: SCP_AE_TITLE, port: worker.scpPort ?? 0, pid: worker.pid };
      await echoUntilAnswered(SCP_AE_TITLE, peers[durability].port);
    }
    const storescpDir = join(workDir, 'storescp');
    peers.storescp = await startStorescp(storescpDir, cleanup);
    const storeDir = join(stack.storeDir, 'studies');

    for (const shape of shapes) {
      const study = await studyOf(shape, studiesDir, keep !== '');
      const expected: Expected = new Map();
      for (const series of study.series) {
        for (const instance of series.instances) {
          expected.set(instance.sopInstanceUid, await dataSetBytes(instance.file));
        }
      }
      const label = `${expected.size} x ${Math.round(study.totalBytes / expected.size / 1024)} KB`;
      const receive = async (receiver: Receiver): Promise<ReceiveRun> => {
        const peer = peers[receiver];
        const cpuBefore = await cpuSecondsOf(peer.pid);
        let seconds = 0;
        const [peak] = await peakMemoryDuring([{ app: receiver, pid: peer.pid }], async () => {
          const started = performance.now();
          await runDcmtk(
            'storescu',
            [
              '-aet',
              CALLING_AE_TITLE,
              '-aec',
              peer.aeTitle,
              '127.0.0.1',
              String(peer.port),
              '+sd',
              '+r',
              study.directory,
            ],
            { timeoutMs: 900_000 },
          );
          seconds = (performance.now() - started) / 1000;
        });
        const cpuSeconds = (await cpuSecondsOf(peer.pid)) - cpuBefore;
        if (receiver !== 'storescp') {
          await checkReceived(await filesUnder(storeDir), expected, (name) => name.replace(/\.dcm$/, ''));
          if ((await filesUnder(join(stack.storeDir, 'tmp'))).length > 0)
            throw new Error('files left in tmp');
          await waitIndexed(stack.apiUrl, study.studyInstanceUid, expected.size);
          const [deleted] = await api(stack.apiUrl, 'DELETE', `/studies/${study.studyInstanceUid}`);
          if (deleted !== 204) throw new Error(`DELETE /studies answered ${deleted}`);
          if ((await filesUnder(storeDir)).length > 0) throw new Error('the deleted study left files');
        } else {
          await checkReceived(await filesUnder(storescpDir), expected, (name) =>
            name.replace(/^[A-Z]+\./, ''),
          );
          for (const file of await filesUnder(storescpDir)) await rm(file);
        }
        return { shape, receiver, seconds, peakRssMb: peak.peakKb / 1024, cpuSeconds };
      };

      const runsOfShape = shape === '2gb' ? runs2gb : runs;
      const loadBefore = loadAverage();
      for (let run = 1; run <= runsOfShape; run++) {
        // Alternate the order, so that a load that rises or falls weighs on all alike.
        for (const receiver of run % 2 === 1 ? order : [...order].reverse()) {
          const measured = await receive(receiver);
          result.runs.push(measured);
          console.log(
            `${shape} run ${run} ${receiver.padEnd(11)} ${measured.seconds.toFixed(2)} s (${Math.round(expected.size / measured.seconds)} inst/s, receiver CPU ${measured.cpuSeconds.toFixed(2)} s, peak RSS ${Math.round(measured.peakRssMb)} MB, load ${loadAverage()})`,
          );
        }
      }
      const of = (receiver: Receiver) =>
        result.runs.filter((run) => run.shape === shape && run.receiver === receiver);
      for (const receiver of RECEIVERS) {
        if (of(receiver).length > 0) {
          result.peaks.push({
            shape,
            receiver,
            peakRssMb: Math.max(...of(receiver).map((run) => run.peakRssMb)),
          });
        }
      }
      for (const durability of ['instance', 'association'] as const) {
        if (of(durability).length === 0 || of('storescp').length === 0) continue;
        const comparison: Comparison = {
          scenario: `receive ${label}: storescu → dimse-worker (SCP_DURABILITY=${durability}) vs → storescp`,
          ours: median(of(durability).map((run) => run.seconds)),
          dcmtk: median(of('storescp').map((run) => run.seconds)),
          unit: 's',
          target: shape === '2gb' ? undefined : 0.9,
          note: `median of ${runsOfShape}, in turn; load ${loadBefore} → ${loadAverage()}`,
        };
        result.comparisons.push(comparison);
        console.log(
          `${shape}: ${label}  storescp ${comparison.dcmtk.toFixed(2)} s  ${durability} ${comparison.ours.toFixed(2)} s  ratio ${(comparison.dcmtk / comparison.ours).toFixed(2)}x`,
        );
      }
      for (const peak of result.peaks.filter((entry) => entry.shape === shape)) {
        const bound = peak.receiver === 'storescp' ? '' : ` (bound ${WORKER_RSS_BOUND_MB} MB)`;
        console.log(`${shape}: peak RSS ${peak.receiver} ${Math.round(peak.peakRssMb)} MB${bound}`);
      }
    }
  } finally {
    load.end = loadAverage();
    log(`load average at end: ${load.end}`);
    await cleanup.run();
  }
  return result;
}

if (require.main === module) {
  benchReceive().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
