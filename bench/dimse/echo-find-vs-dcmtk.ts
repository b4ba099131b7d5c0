/**
 * C-ECHO and C-FIND latency of @pacslink/dimse `echo`/`find` against DCMTK `echoscu`/`findscu`,
 * same peers (the running test peers, TCP_NODELAY=1), interleaved, median of --runs (default 20).
 *
 *   eval $(bash scripts/test-peers.sh env | sed 's/^/export /')
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/dimse/echo-find-vs-dcmtk.ts [--runs 20]
 *
 * DCMTK is timed twice in each run: its whole process, as a shell would run it (exec and loading
 * its data dictionary take most of it), and its network part from its own log (`-lc`, a pattern
 * with microseconds): "Requesting Association" to "Releasing Association", so the release round
 * trip is left out of DCMTK's figure, which favours it.
 * Ours is the call in a running process, as a worker makes it: connect, associate, request,
 * responses, release, close. Not a test: it measures.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echo, find, type DimseConnectionOptions } from '@pacslink/dimse';
import {
  deleteStudyFromOrthanc,
  generateStudy,
  peersFromEnv,
  randomId,
  runDcmtk,
  testEgressGuard,
} from '@pacslink/testing';
import { argument, loadAverage, median, type Comparison } from './common';

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/** log4cplus: every DCMTK log line led by its time to the microsecond */
const LOG_CONFIG = [
  'log4cplus.rootLogger = DEBUG, console',
  'log4cplus.appender.console = log4cplus::ConsoleAppender',
  'log4cplus.appender.console.layout = log4cplus::PatternLayout',
  'log4cplus.appender.console.layout.ConversionPattern = %D{%H:%M:%S.%Q} %m%n',
  '',
].join('\n');

/** ms from DCMTK's "Requesting Association" to its "Releasing Association" log line */
function networkPart(log: string): number {
  const at = (event: string): number => {
    const match = new RegExp(`^(\\d\\d):(\\d\\d):(\\d\\d)\\.(\\d{3})\\.(\\d{3}) ${event}`, 'm').exec(log);
    if (match === null) throw new Error(`DCMTK's log has no "${event}" line`);
    const [hours, minutes, seconds, millis, micros] = match.slice(1).map(Number);
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis + micros / 1000;
  };
  return at('Releasing Association') - at('Requesting Association');
}

interface Case {
  name: string;
  tool: 'echoscu' | 'findscu';
  dcmtk: readonly string[];
  ours: () => Promise<unknown>;
  /** what both must return, checked once before timing */
  check?: () => Promise<void>;
}

/**
 * Each exchange interleaved, median of --runs. The target row compares DCMTK's whole process (as
 * the tools are used, one process per exchange) with our call; its network part is for reference.
 */
export async function benchEchoFind(argv: readonly string[] = process.argv): Promise<Comparison[]> {
  const load = loadAverage();
  console.log(`load average at start: ${load}`);
  const comparisons: Comparison[] = [];
  const runs = Number(argument('runs', '20', argv));
  const { orthanc, storescp, wlm } = peersFromEnv();
  const connection = (peer: { host: string; port: number; aet: string }): DimseConnectionOptions => ({
    host: peer.host,
    port: peer.port,
    callingAeTitle: 'FINDSCU',
    calledAeTitle: peer.aet,
    connectTimeoutMs: 5_000,
    associationTimeoutMs: 5_000,
    pduTimeoutMs: 20_000,
    egress: testEgressGuard(),
  });
  const address = (peer: { host: string; port: number; aet: string }): string[] => [
    '-lc',
    logConfig,
    '-aet',
    'FINDSCU',
    '-aec',
    peer.aet,
    peer.host,
    String(peer.port),
  ];

  const workDir = await mkdtemp(join(tmpdir(), 'pacslink-bench-echo-find-'));
  const logConfig = join(workDir, 'dcmtk-log.cfg');
  await writeFile(logConfig, LOG_CONFIG);
  const study = await generateStudy(workDir, {
    series: 4,
    instancesPerSeries: 2,
    patient: { name: `Bench-${randomId('', 4)}^Echo`, charset: 'ISO_IR 192' },
  });
  await runDcmtk('storescu', [
    '-aet',
    'STORESCU',
    '-aec',
    orthanc.aet,
    orthanc.host,
    String(orthanc.port),
    ...study.files,
  ]);
  const studyKeys = ['PatientName', 'PatientID', 'StudyDescription', 'AccessionNumber', 'StudyDate'] as const;
  const cases: Case[] = [
    ...(
      [
        ['Orthanc', orthanc],
        ['storescp', storescp],
        ['wlmscpfs', wlm],
      ] as const
    ).map(([label, peer]): Case => ({
      name: `C-ECHO → ${label}`,
      tool: 'echoscu',
      dcmtk: address(peer),
      ours: () => echo(connection(peer)),
    })),
    {
      name: 'C-FIND STUDY by UID → Orthanc (1 match)',
      tool: 'findscu',
      dcmtk: [
        '-S',
        ...address(orthanc),
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${study.studyInstanceUid}`,
        ...studyKeys.flatMap((key) => ['-k', key]),
      ],
      ours: () =>
        find(connection(orthanc), {
          level: 'STUDY',
          keys: { StudyInstanceUID: study.studyInstanceUid },
          returnKeys: studyKeys,
        }),
      check: async () => {
        const matches = await find(connection(orthanc), {
          level: 'STUDY',
          keys: { StudyInstanceUID: study.studyInstanceUid },
          returnKeys: studyKeys,
        });
        if (matches.length !== 1) throw new Error(`expected 1 study, got ${matches.length}`);
      },
    },
    {
      name: 'C-FIND SERIES of a study → Orthanc (4 matches)',
      tool: 'findscu',
      dcmtk: [
        '-S',
        ...address(orthanc),
        '-k',
        'QueryRetrieveLevel=SERIES',
        '-k',
        `StudyInstanceUID=${study.studyInstanceUid}`,
        '-k',
        'SeriesInstanceUID',
        '-k',
        'Modality',
        '-k',
        'SeriesNumber',
      ],
      ours: () =>
        find(connection(orthanc), {
          level: 'SERIES',
          keys: { StudyInstanceUID: study.studyInstanceUid },
          returnKeys: ['Modality', 'SeriesNumber'],
        }),
      check: async () => {
        const matches = await find(connection(orthanc), {
          level: 'SERIES',
          keys: { StudyInstanceUID: study.studyInstanceUid },
          returnKeys: ['Modality', 'SeriesNumber'],
        });
        if (matches.length !== 4) throw new Error(`expected 4 series, got ${matches.length}`);
      },
    },
  ];

  const rows: string[][] = [];
  try {
    for (const testCase of cases) {
      await testCase.check?.();
      // one warm-up each: the first association of a process pays for JIT and DNS caches
      await runDcmtk(testCase.tool, testCase.dcmtk);
      await testCase.ours();
      const times = { process: [] as number[], network: [] as number[], ours: [] as number[] };
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        const { stdout, stderr } = await runDcmtk(testCase.tool, testCase.dcmtk);
        times.process.push(performance.now() - started);
        times.network.push(networkPart(`${stdout}\n${stderr}`));
        times.ours.push(await timed(testCase.ours));
      }
      const whole = median(times.process);
      const network = median(times.network);
      const ours = median(times.ours);
      const line = [
        testCase.name,
        testCase.tool,
        whole.toFixed(1),
        network.toFixed(1),
        ours.toFixed(1),
        (whole / ours).toFixed(2),
        (network / ours).toFixed(2),
      ];
      rows.push(line);
      const note = `median of ${runs}, interleaved`;
      comparisons.push(
        {
          scenario: `${testCase.name}: ${testCase.tool} process vs our call`,
          ours,
          dcmtk: whole,
          unit: 'ms',
          target: 1.0,
          note,
        },
        {
          scenario: `${testCase.name}: ${testCase.tool} network part vs our call`,
          ours,
          dcmtk: network,
          unit: 'ms',
          note,
        },
      );
      console.log(
        `${line.join(' | ')}   (ours min ${Math.min(...times.ours).toFixed(1)} max ${Math.max(...times.ours).toFixed(1)} ms)`,
      );
    }
  } finally {
    await deleteStudyFromOrthanc(orthanc, study.studyInstanceUid);
    await rm(workDir, { recursive: true, force: true });
  }
  console.log(`\nmedian of ${runs}, ms, interleaved (DCMTK network part from its own log)\n`);
  console.log(
    '| exchange | DCMTK tool | DCMTK process | DCMTK network part | ours (call) | DCMTK process / ours | DCMTK network / ours |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  console.log(`load average at start: ${load}, at end: ${loadAverage()}`);
  for (const comparison of comparisons) comparison.note += `; load ${load} → ${loadAverage()}`;
  return comparisons;
}

if (require.main === module) {
  benchEchoFind().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
