import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchPeers } from './bench-orthanc';
import { curlStowToOrthanc, loopbackTcp, storescuToOrthanc, storescuToStorescp } from './baselines';
import { Cleanup } from './cleanup';
import { log } from './log';
import { measure, type Measurement } from './measure';
import { memorySection } from './memory-section';
import { writeBodyFile } from './multipart';
import { parseOptions, UsageError, USAGE, type BenchOptions } from './options';
import { setUpPacslink } from './pacslink-setup';
import { throughputReport, type Verdict } from './report';
import { generateBenchStudy, type BenchStudy } from './studies';

function environmentLine(options: BenchOptions, orthancVersion: string | undefined): string {
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return [
    `commit ${commit}`,
    `node ${process.version}`,
    `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
    `Orthanc ${orthancVersion ?? '?'}`,
    `${options.runs} run(s), median`,
    options.smoke ? 'SMOKE sizes' : 'full sizes',
  ].join(', ');
}

async function run(options: BenchOptions, cleanup: Cleanup): Promise<Verdict> {
  const { sections } = options;
  const workDir = await mkdtemp(join(tmpdir(), 'pacslink-bench-'));
  cleanup.add(`remove ${workDir}`, () =>
    options.keep ? log(`kept ${workDir}`) : rm(workDir, { recursive: true, force: true }),
  );
  log(`work directory ${workDir}`);
  const peers = await startBenchPeers(workDir, cleanup);

  const wantsCstore = sections.has('cstore');
  const wantsStow = sections.has('stow');
  const wantsBaselines = sections.has('baselines');
  const studies: BenchStudy[] = [];
  const bodyFiles = new Map<BenchStudy, string>();
  if (wantsCstore || wantsStow || wantsBaselines) {
    for (const shape of options.studies) {
      log(`generating ${shape.label}`);
      const study = await generateBenchStudy(join(workDir, 'studies'), shape);
      studies.push(study);
      if (wantsStow || wantsBaselines) {
        const bodyFile = join(workDir, `stow-${study.studyInstanceUid}.body`);
        await writeBodyFile(study.body, bodyFile);
        bodyFiles.set(study, bodyFile);
      }
    }
  }

  const measurements: Measurement[] = [];
  for (const study of studies) {
    const bodyFile = bodyFiles.get(study);
    const baselines = [
      ...(wantsBaselines ? [loopbackTcp(study), storescuToStorescp(peers.storescp, study)] : []),
      ...(wantsCstore || wantsBaselines ? [storescuToOrthanc(peers.orthanc, study)] : []),
      ...((wantsStow || wantsBaselines) && bodyFile
        ? [curlStowToOrthanc(peers.orthanc, study, bodyFile)]
        : []),
    ];
    for (const scenario of baselines) measurements.push(await measure(scenario, options.runs));
  }

  const verdict: Verdict = { missed: [], errors: [] };
  let memoryTable: string | undefined;
  if (wantsCstore || wantsStow || sections.has('memory')) {
    const pacslink = await setUpPacslink({ workDir, cleanup, orthanc: peers.orthanc, studies, sections });
    if ('error' in pacslink) {
      verdict.errors.push(`pacslink: ${pacslink.error}`);
    } else {
      measurements.push(...(await pacslink.measureExports(options.runs)));
      if (sections.has('memory')) {
        const memory = await memorySection({ ...pacslink.context, workDir, shape: options.memoryStudy });
        memoryTable = memory.table;
        verdict.missed.push(...memory.verdict.missed);
        verdict.errors.push(...memory.verdict.errors);
      }
    }
  }

  const throughput = throughputReport(measurements);
  const out = (text = '') => process.stdout.write(`${text}\n`);
  out();
  out(`pacslink export benchmark: ${environmentLine(options, peers.orthanc.version)}`);
  out('MB = 10^6 bytes; throughput from the median; ratio = baseline time / this time (> 1: faster)');
  out();
  if (measurements.length > 0) out(throughput.table);
  if (memoryTable) {
    out();
    out(`peak RSS (VmHWM) while exporting${options.smoke ? ' (smoke size: the target is for 2 GB)' : ''}`);
    out();
    out(memoryTable);
  }
  verdict.missed.unshift(...throughput.verdict.missed);
  verdict.errors.unshift(...throughput.verdict.errors);
  if (verdict.missed.length > 0) out(`\ntargets missed:\n  ${verdict.missed.join('\n  ')}`);
  if (verdict.errors.length > 0) out(`\nerrors:\n  ${verdict.errors.join('\n  ')}`);
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
