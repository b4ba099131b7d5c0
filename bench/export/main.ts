import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchPeers, type BenchPeers } from './bench-orthanc';
import { curlStowToOrthanc, loopbackTcp, storescuToOrthanc, storescuToStorescp } from './baselines';
import { Cleanup } from './cleanup';
import { log } from './log';
import { measureInTurns, type Measurement, type Scenario } from './measure';
import { memorySection } from './memory-section';
import { writeBodyFile } from './multipart';
import { parseOptions, UsageError, USAGE, type BenchOptions } from './options';
import { setUpPacslink } from './pacslink-setup';
import { throughputReport, type Verdict } from './report';
import { generateBenchStudy, type BenchStudy } from './studies';

function environmentLine(options: BenchOptions, orthancVersion: string | undefined): string {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the line says "unknown"
  }
  return [
    `commit ${commit}`,
    `node ${process.version}`,
    `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
    `Orthanc ${orthancVersion ?? '?'}`,
    `${options.runs} run(s), median`,
    options.smoke ? 'SMOKE sizes' : 'full sizes',
  ].join(', ');
}

/** The studies of the throughput table, each with its STOW-RS body file for curl (untimed). */
async function prepareStudies(options: BenchOptions, workDir: string): Promise<Map<BenchStudy, string>> {
  const studies = new Map<BenchStudy, string>();
  for (const shape of options.studies) {
    log(`generating ${shape.label}`);
    const study = await generateBenchStudy(join(workDir, 'studies'), shape);
    const bodyFile = join(workDir, `stow-${study.studyInstanceUid}.body`);
    await writeBodyFile(study.body, bodyFile);
    studies.set(study, bodyFile);
  }
  return studies;
}

function baselineScenarios(
  options: BenchOptions,
  peers: BenchPeers,
  study: BenchStudy,
  bodyFile: string,
): Scenario[] {
  const { sections } = options;
  const baselines = sections.has('baselines');
  return [
    ...(baselines ? [loopbackTcp(study), storescuToStorescp(peers.storescp, study)] : []),
    ...(baselines || sections.has('cstore') ? [storescuToOrthanc(peers.orthanc, study)] : []),
    ...(baselines || sections.has('stow') ? [curlStowToOrthanc(peers.orthanc, study, bodyFile)] : []),
  ];
}

function print(
  options: BenchOptions,
  peers: BenchPeers,
  measurements: Measurement[],
  memoryTable?: string,
): Verdict {
  const throughput = throughputReport(measurements);
  const out = (text = '') => process.stdout.write(`${text}\n`);
  out();
  out(`pacslink export benchmark: ${environmentLine(options, peers.orthanc.version)}`);
  if (measurements.length > 0) {
    out('MB = 10^6 bytes; throughput from the median; ratio = baseline time / this time (> 1: faster)');
    out();
    out(throughput.table);
  }
  if (memoryTable) {
    out();
    out(`peak RSS (VmHWM) while exporting${options.smoke ? ' (smoke size: the target is for 2 GB)' : ''}`);
    out();
    out(memoryTable);
  }
  return throughput.verdict;
}

async function run(options: BenchOptions, cleanup: Cleanup): Promise<Verdict> {
  const { sections } = options;
  const workDir = await mkdtemp(join(tmpdir(), 'pacslink-bench-'));
  cleanup.add(`remove ${workDir}`, () =>
    options.keep ? log(`kept ${workDir}`) : rm(workDir, { recursive: true, force: true }),
  );
  log(`work directory ${workDir}`);
  const peers = await startBenchPeers(workDir, cleanup);
  const throughputWanted = sections.has('cstore') || sections.has('stow') || sections.has('baselines');
  const studies = throughputWanted ? await prepareStudies(options, workDir) : new Map<BenchStudy, string>();

  const verdict: Verdict = { missed: [], errors: [] };
  const pacslink =
    sections.has('cstore') || sections.has('stow') || sections.has('memory')
      ? await setUpPacslink({
          workDir,
          cleanup,
          orthanc: peers.orthanc,
          studies: [...studies.keys()],
          sections,
        })
      : undefined;
  if (pacslink && 'error' in pacslink) verdict.errors.push(`pacslink: ${pacslink.error}`);
  const exports = pacslink && 'context' in pacslink ? pacslink : undefined;

  const measurements: Measurement[] = [];
  for (const [study, bodyFile] of studies) {
    const scenarios = [
      ...baselineScenarios(options, peers, study, bodyFile),
      ...(exports?.exportScenarios(study) ?? []),
    ];
    measurements.push(...(await measureInTurns(scenarios, options.runs)));
  }

  let memoryTable: string | undefined;
  if (sections.has('memory') && exports) {
    const memory = await memorySection({ ...exports.context, workDir, shape: options.memoryStudy });
    memoryTable = memory.table;
    verdict.missed.push(...memory.verdict.missed);
    verdict.errors.push(...memory.verdict.errors);
  }

  const throughput = print(options, peers, measurements, memoryTable);
  verdict.missed.unshift(...throughput.missed);
  verdict.errors.unshift(...throughput.errors);
  if (verdict.missed.length > 0)
    process.stdout.write(`\ntargets missed:\n  ${verdict.missed.join('\n  ')}\n`);
  if (verdict.errors.length > 0) process.stdout.write(`\nerrors:\n  ${verdict.errors.join('\n  ')}\n`);
  return verdict;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (!error.message) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  try {
    const verdict = await run(options, cleanup);
    if (verdict.errors.length > 0) return 1;
    return options.enforce && verdict.missed.length > 0 ? 2 : 0;
  } catch (error) {
    log(`FAILED: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    await cleanup.run();
  }
}

void main().then((code) => process.exit(code));
