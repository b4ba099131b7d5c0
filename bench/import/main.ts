import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { orthancRest, startPeers, stopPeers, type OrthancPeer, freePort } from '@pacslink/testing';
import { startBenchPeers, type BenchPeers } from '../export/bench-orthanc';
import { Cleanup } from '../export/cleanup';
import { log } from '../export/log';
import { measureInTurns, type Measurement, type Scenario } from '../export/measure';
import { peakMemoryDuring, type PeakMemory } from '../export/memory';
import { startPacslink } from '../export/pacslink-services';
import { PacslinkApi } from '../export/pacslink-api';
import { markdownTable, throughputReport, type Verdict } from '../export/report';
import { runTool } from '../export/run-tool';
import { generateBenchStudy, type BenchStudy } from '../export/studies';
import { TransferEvents } from '../export/transfer-events';
import { curlStudy, getscu, movescuToStorescp, orthancWadoRetrieve } from './baselines';
import { ImportApi } from './import-api';
import { parseImportOptions, UsageError, USAGE, type ImportBenchOptions } from './options';
import { pacslinkImport, type ImportTarget } from './pacslink-import';

/** A second Orthanc, for the "Orthanc retrieving over WADO-RS" row. */
async function startRetrieverOrthanc(workDir: string, cleanup: Cleanup): Promise<OrthancPeer> {
  const dataDir = join(workDir, 'peers-retriever');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PEERS_TCP_NODELAY: '1',
    ORTHANC_DICOM_PORT: String(await freePort()),
    ORTHANC_HTTP_PORT: String(await freePort()),
    STORESCP_PORT: String(await freePort()),
    WLM_PORT: String(await freePort()),
  };
  cleanup.add(`stop the retrieving Orthanc (${dataDir})`, () => stopPeers({ dataDir }));
  return (await startPeers({ dataDir, env })).orthanc;
}

/** The study into the source Orthanc, untimed: storescu over one association. */
async function putIntoOrthanc(orthanc: OrthancPeer, study: BenchStudy): Promise<void> {
  log(`putting ${study.shape.label} into the source Orthanc (untimed)`);
  await runTool(
    'storescu',
    [
      '-aet',
      'STORESCU',
      '-aec',
      orthanc.aet,
      orthanc.host,
      String(orthanc.port),
      '+sd',
      '+r',
      study.directory,
    ],
    15 * 60_000,
  );
}

interface Pacslink {
  targets: ImportTarget[];
  api: ImportApi;
  events: TransferEvents;
  workers: { app: string; pid: number }[];
}

async function setUpPacslink(
  workDir: string,
  cleanup: Cleanup,
  orthanc: OrthancPeer,
  options: ImportBenchOptions,
): Promise<Pacslink> {
  const stack = await startPacslink(workDir, cleanup, {
    apps: ['config-service', 'dimse-worker', 'dicomweb-worker'],
  });
  await new PacslinkApi(stack.apiUrl).allowTransfer();
  const api = new ImportApi(stack.apiUrl);
  // Orthanc sends a C-MOVE to the AE titles it knows: ours, at the Storage SCP's port of this run.
  await orthancRest(orthanc, 'PUT', '/modalities/PACSLINK', {
    AET: 'PACSLINK',
    Host: '127.0.0.1',
    Port: stack.services['dimse-worker'].scpPort,
  });
  const all: ImportTarget[] = [
    {
      name: 'pacslink WADO-RS import',
      kind: 'wado',
      pacsConfigId: await api.createWadoConfig(orthanc),
      target: 0.9,
    },
    {
      name: 'pacslink C-GET import',
      kind: 'cget',
      pacsConfigId: await api.createRetrieveConfig(orthanc, 'BENCHGET', 'get'),
      target: 0.9,
    },
    {
      name: 'pacslink C-MOVE import',
      kind: 'cmove',
      pacsConfigId: await api.createRetrieveConfig(orthanc, orthanc.aet, 'move'),
      target: 0.9,
    },
  ];
  const events = await TransferEvents.subscribe(stack.amqpUrl, cleanup);
  return {
    targets: all.filter((target) => options.sections.has(target.kind)),
    api,
    events,
    workers: (['dimse-worker', 'dicomweb-worker'] as const).map((app) => ({
      app,
      pid: stack.services[app].pid,
    })),
  };
}

function scenariosOf(
  options: ImportBenchOptions,
  peers: BenchPeers,
  retriever: OrthancPeer | undefined,
  study: BenchStudy,
  getDir: string,
  pacslink: Pacslink,
): Scenario[] {
  const { orthanc } = peers;
  const { sections } = options;
  const baselines: Scenario[] = [curlStudy(orthanc, study)];
  if (sections.has('wado') && retriever) baselines.push(orthancWadoRetrieve(orthanc, retriever, study));
  if (sections.has('cget')) baselines.push(getscu(orthanc, study, getDir));
  if (sections.has('cmove')) baselines.push(movescuToStorescp(orthanc, peers.storescp, study));
  return [
    ...baselines,
    ...pacslink.targets.map((target) => pacslinkImport(target, study, pacslink.api, pacslink.events)),
  ];
}

function environmentLine(options: ImportBenchOptions, orthancVersion: string | undefined): string {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
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

async function run(options: ImportBenchOptions, cleanup: Cleanup): Promise<Verdict> {
  const workDir = await mkdtemp(join(tmpdir(), 'pacslink-bench-import-'));
  cleanup.add(`remove ${workDir}`, () =>
    options.keep ? log(`kept ${workDir}`) : rm(workDir, { recursive: true, force: true }),
  );
  log(`work directory ${workDir}`);
  const peers = await startBenchPeers(workDir, cleanup);
  const retriever = options.sections.has('wado') ? await startRetrieverOrthanc(workDir, cleanup) : undefined;
  const studies: BenchStudy[] = [];
  for (const shape of options.studies) {
    log(`generating ${shape.label}`);
    const study = await generateBenchStudy(join(workDir, 'studies'), shape);
    await putIntoOrthanc(peers.orthanc, study);
    studies.push(study);
  }
  const pacslink = await setUpPacslink(workDir, cleanup, peers.orthanc, options);
  const measurements: Measurement[] = [];
  let peaks: PeakMemory[] = [];
  peaks = await peakMemoryDuring(pacslink.workers, async () => {
    for (const study of studies) {
      const scenarios = scenariosOf(options, peers, retriever, study, join(workDir, 'getscu'), pacslink);
      measurements.push(...(await measureInTurns(scenarios, options.runs)));
    }
  });

  const throughput = throughputReport(measurements);
  const out = (text = '') => process.stdout.write(`${text}\n`);
  out();
  out(`pacslink import benchmark: ${environmentLine(options, peers.orthanc.version)}`);
  out(
    'end to end: POST /transfers to transfer.completed (stored and indexed); ratio = baseline time / this time',
  );
  out();
  out(throughput.table);
  out();
  out('worker peak RSS (VmHWM) over all the runs above');
  out();
  out(
    markdownTable(
      ['worker', 'peak RSS MB'],
      peaks.map((peak) => [peak.app, (peak.peakKb / 1024).toFixed(0)]),
    ),
  );
  const { verdict } = throughput;
  if (verdict.missed.length > 0) out(`\ntargets missed:\n  ${verdict.missed.join('\n  ')}`);
  if (verdict.errors.length > 0) out(`\nerrors:\n  ${verdict.errors.join('\n  ')}`);
  return verdict;
}

async function main(): Promise<number> {
  let options: ImportBenchOptions;
  try {
    options = parseImportOptions(process.argv.slice(2));
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
