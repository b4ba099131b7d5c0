import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Cleanup } from '../export/cleanup';
import { log } from '../export/log';
import { generateBenchStudy, type BenchStudy } from '../export/studies';
import { startEngineStack, type EngineStack } from './engine-stack';
import {
  FIRST_MILESTONES,
  GAP_MILESTONES,
  batchGapRun,
  firstInstanceRun,
  type BatchGapRun,
  type FirstInstanceRun,
} from './measure-engine';

const USAGE = `usage: npm run bench:engine -- [--runs N] [--large-runs M] [--build LABEL=DIST_DIR]... [--keep]

  The engine's own cost on export, timed on the wire by a proxy in front of DCMTK storescp:
  POST /transfers -> first P-DATA-TF of a 1-instance study (N runs, default 20), and the gaps between
  the batches of a 2000 x 9.4 KB study on one association slot (M runs, default 2).
  --build     a build to measure (a copy of dist/); repeat to compare builds in one run, their
              exports alternating; default: current=dist
  --keep      keep the work directory (service logs)`;

interface Build {
  label: string;
  distDir?: string;
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '20' },
      'large-runs': { type: 'string', default: '2' },
      build: { type: 'string', multiple: true },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const builds: Build[] = (values.build ?? ['current=dist']).map((spec) => {
    const [label, dir] = spec.split('=');
    if (!label || !dir || !/^[a-z0-9]+$/.test(label))
      throw new Error(`--build ${spec}: LABEL=DIST_DIR, label [a-z0-9]+`);
    return { label, distDir: resolve(dir) };
  });
  return {
    help: values.help,
    runs: Number(values.runs),
    largeRuns: Number(values['large-runs']),
    builds,
    keep: values.keep,
  };
}

function percentile(values: number[], p: number): number | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const fmt = (value: number | undefined, digits = 0) => (value === undefined ? '-' : value.toFixed(digits));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

function firstInstanceTable(results: Map<string, FirstInstanceRun[]>): string {
  const rows: string[][] = [];
  for (const [label, runs] of results) {
    for (const p of [50, 90]) {
      rows.push([
        label,
        `p${p}`,
        String(runs.length),
        fmt(
          percentile(
            runs.map((r) => r.load),
            50,
          ),
          1,
        ),
        ...FIRST_MILESTONES.map((m) =>
          fmt(
            percentile(
              runs.map((r) => r.milestones[m] ?? NaN),
              p,
            ),
          ),
        ),
      ]);
    }
  }
  return table(['build', '', 'runs', 'load1', ...FIRST_MILESTONES.map((m) => `${m} ms`)], rows);
}

function gapTable(results: Map<string, BatchGapRun[]>): string {
  const rows = [...results].map(([label, runs]) => {
    const gaps = runs.flatMap((r) => r.gaps);
    const milestones = runs.flatMap((r) => r.gapMilestones);
    return [
      label,
      String(runs.length),
      fmt(
        percentile(
          runs.map((r) => r.load),
          50,
        ),
        1,
      ),
      fmt(
        percentile(
          runs.map((r) => r.seconds),
          50,
        ),
        2,
      ),
      runs.map((r) => `${r.associations}/${r.commands}/${r.claims}`).join(' '),
      fmt(percentile(gaps, 50)),
      fmt(percentile(gaps, 90)),
      ...GAP_MILESTONES.map((m) =>
        fmt(
          percentile(
            milestones.map((g) => g[m] ?? NaN),
            50,
          ),
        ),
      ),
    ];
  });
  return table(
    [
      'build',
      'runs',
      'load1',
      'end to end s (p50)',
      'associations/commands/claims per run',
      'gap p50 ms',
      'gap p90 ms',
      ...GAP_MILESTONES.map((m) => `${m} ms (p50)`),
    ],
    rows,
  );
}

/** Runs `measure` `rounds` times on every stack, alternating their order each round. */
async function inTurns<R>(
  stacks: EngineStack[],
  rounds: number,
  what: string,
  measure: (stack: EngineStack) => Promise<R>,
): Promise<Map<string, R[]>> {
  const results = new Map<string, R[]>(stacks.map((stack) => [stack.label, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? stacks : [...stacks].reverse();
    for (const stack of order) {
      results.get(stack.label)?.push(await measure(stack));
    }
    log(`${what}: round ${round + 1}/${rounds} (load ${loadavg()[0].toFixed(1)})`);
  }
  return results;
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  try {
    const workDir = await mkdtemp(join(tmpdir(), 'pacslink-engine-bench-'));
    cleanup.add(`remove ${workDir}`, () =>
      options.keep ? log(`kept ${workDir}`) : rm(workDir, { recursive: true, force: true }),
    );
    const one: BenchStudy = await generateBenchStudy(join(workDir, 'studies'), {
      label: '1 x 9.4 KB',
      instances: 1,
      instanceBytes: 9_400,
      seriesSize: 1,
    });
    const many: BenchStudy = await generateBenchStudy(join(workDir, 'studies'), {
      label: '2000 x 9.4 KB',
      instances: 2000,
      instanceBytes: 9_400,
      seriesSize: 500,
    });
    const stacks: EngineStack[] = [];
    for (const build of options.builds) {
      stacks.push(await startEngineStack(workDir, cleanup, build, [one, many]));
    }
    // One untimed export each: connections, JIT and caches warm, as in a service that runs.
    for (const stack of stacks) await firstInstanceRun(stack, one);
    const loadBefore = loadavg();
    const first = await inTurns(stacks, options.runs, '1-instance exports', (stack) =>
      firstInstanceRun(stack, one),
    );
    const gaps = await inTurns(stacks, options.largeRuns, '2000-instance exports', (stack) =>
      batchGapRun(stack, many),
    );
    const loadAfter = loadavg();
    let commit = 'unknown';
    try {
      commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      // not a git checkout
    }
    const out = (text = '') => process.stdout.write(`${text}\n`);
    out();
    out(
      `pacslink engine benchmark: commit ${commit}, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ` +
        `load average before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(1)).join(' ')}`,
    );
    out('builds: ' + options.builds.map((b) => `${b.label}=${b.distDir}`).join(', '));
    out();
    out(
      'POST /transfers of a 1-instance study (9.4 KB) to DCMTK storescp (maxAssociations 1), ms after the POST was sent:',
    );
    out(
      "(command published, claim asked: when a queue of the benchmark bound beside the services' got them)",
    );
    out();
    out(firstInstanceTable(first));
    out();
    out(
      '2000 x 9.4 KB (4 batches of 500, maxAssociations 1): gap = last C-STORE-RSP of one batch to the first P-DATA of the next;',
    );
    out('milestones in ms after that last C-STORE-RSP:');
    out();
    out(gapTable(gaps));
    return 0;
  } catch (error) {
    log(`FAILED: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    await cleanup.run();
  }
}

void main().then((code) => process.exit(code));
