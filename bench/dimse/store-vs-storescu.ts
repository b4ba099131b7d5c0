/**
 * C-STORE throughput of @pacslink/dimse `store` against DCMTK `storescu`, same files, same Orthanc
 * (the running test peers), alternating (who goes first too), the study deleted from Orthanc
 * before every run.
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/dimse/store-vs-storescu.ts \
 *     [--runs 3] [--shape large|small|both] [--only ours|storescu] [--keep DIR] [--peer orthanc|storescp]
 *
 * --keep DIR generates each study once into DIR and reuses it. --profile FILE writes a V8 CPU
 * profile of our sending only (the last run), for `node --cpu-prof`-style analysis.
 *
 * Prints one line per run and the medians and ratio per study shape. Not a test: it measures.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { store, type StoreInstance } from '@pacslink/dimse';
import {
  deleteStudyFromOrthanc,
  generateStudy,
  peersFromEnv,
  runDcmtk,
  testEgressGuard,
  TransferSyntax,
  type GeneratedStudy,
} from '@pacslink/testing';
import { argument as argumentOf, loadAverage, median, type Comparison } from './common';

const SHAPES = {
  large: { series: 2, instancesPerSeries: 100, instanceBytes: 524_288 },
  small: { series: 4, instancesPerSeries: 500, instanceBytes: 9_400 },
} as const;

/** Sends each study with `storescu` and with `store()`, alternating; the medians per shape. */
export async function benchStore(argv: readonly string[] = process.argv): Promise<Comparison[]> {
  const argument = (name: string, fallback: string) => argumentOf(name, fallback, argv);
  const comparisons: Comparison[] = [];
  const load = loadAverage();
  console.log(`load average at start: ${load}`);
  const runs = Number(argument('runs', '3'));
  const shapes =
    argument('shape', 'both') === 'both'
      ? (['large', 'small'] as const)
      : [argument('shape', 'large') as keyof typeof SHAPES];
  const only = argument('only', 'all');
  const { orthanc, storescp } = peersFromEnv();
  const toStorescp = argument('peer', 'orthanc') === 'storescp';
  const peer = toStorescp ? storescp : orthanc;
  const clear = async (study: GeneratedStudy): Promise<void> => {
    if (!toStorescp) return deleteStudyFromOrthanc(orthanc, study.studyInstanceUid);
    for (const name of await readdir(storescp.dir)) await rm(join(storescp.dir, name), { force: true });
  };
  const keep = argument('keep', '');
  const workDir = keep === '' ? await mkdtemp(join(tmpdir(), 'pacslink-bench-dimse-')) : keep;
  try {
    for (const shape of shapes) {
      const study = await studyOf(shape, workDir, keep !== '');
      const instances: StoreInstance[] = study.series.flatMap((series) =>
        series.instances.map((instance) => ({
          path: instance.file,
          sopClassUid: instance.sopClassUid,
          sopInstanceUid: instance.sopInstanceUid,
          transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
        })),
      );
      const times: Record<'ours' | 'storescu', number[]> = { ours: [], storescu: [] };
      for (let run = 1; run <= runs; run++) {
        // Alternate who goes first, so that a load that rises or falls weighs on both alike.
        for (const who of run % 2 === 1 ? (['storescu', 'ours'] as const) : (['ours', 'storescu'] as const)) {
          if (only !== 'all' && only !== who) continue;
          await clear(study);
          const started = performance.now();
          const cpuBefore = process.cpuUsage();
          if (who === 'ours') {
            const profile = argument('profile', '');
            const session = profile === '' ? undefined : new Session();
            if (session !== undefined) {
              session.connect();
              await session.post('Profiler.enable');
              await session.post('Profiler.start');
            }
            const outcomes = await store(
              {
                host: peer.host,
                port: peer.port,
                callingAeTitle: 'PACSLINK',
                calledAeTitle: peer.aet,
                connectTimeoutMs: 5_000,
                associationTimeoutMs: 5_000,
                pduTimeoutMs: 30_000,
                egress: testEgressGuard(),
              },
              instances,
            );
            if (session !== undefined) {
              const { profile: taken } = await session.post('Profiler.stop');
              await writeFile(profile, JSON.stringify(taken));
              session.disconnect();
            }
            const failed = outcomes.filter((outcome) => outcome.status !== 'success');
            if (failed.length > 0) throw new Error(`${failed.length} failed: ${JSON.stringify(failed[0])}`);
          } else {
            await runDcmtk(
              'storescu',
              [
                '-aet',
                'PACSLINK',
                '-aec',
                peer.aet,
                peer.host,
                String(peer.port),
                '+sd',
                '+r',
                study.directory,
              ],
              { timeoutMs: 300_000 },
            );
          }
          const seconds = (performance.now() - started) / 1000;
          times[who].push(seconds);
          const cpu = process.cpuUsage(cpuBefore);
          const ownCpu = who === 'ours' ? `, client CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s` : '';
          console.log(
            `${shape} run ${run} ${who.padEnd(8)} ${seconds.toFixed(2)} s (${Math.round(instances.length / seconds)} inst/s${ownCpu})`,
          );
        }
      }
      await clear(study);
      if (times.ours.length > 0 && times.storescu.length > 0) {
        const ours = median(times.ours);
        const theirs = median(times.storescu);
        const label = `${instances.length} x ${Math.round(study.totalBytes / instances.length / 1024)} KB`;
        comparisons.push({
          scenario: `send ${label}: store() vs storescu → ${toStorescp ? 'storescp' : 'Orthanc'}`,
          ours,
          dcmtk: theirs,
          unit: 's',
          target: toStorescp ? undefined : 1.0,
          note: `median of ${runs}, alternating; load ${load} → ${loadAverage()}`,
        });
        console.log(
          `${shape}: ${instances.length} x ${Math.round(study.totalBytes / instances.length / 1024)} KB  storescu ${theirs.toFixed(2)} s  ours ${ours.toFixed(2)} s  ratio ${(theirs / ours).toFixed(2)}x`,
        );
      }
    }
  } finally {
    if (keep === '') await rm(workDir, { recursive: true, force: true });
    console.log(`load average at end: ${loadAverage()}`);
  }
  return comparisons;
}

async function studyOf(shape: keyof typeof SHAPES, workDir: string, reuse: boolean): Promise<GeneratedStudy> {
  const manifest = join(workDir, `${shape}.json`);
  if (reuse) {
    const saved = await readFile(manifest, 'utf8').catch(() => undefined);
    if (saved !== undefined) return JSON.parse(saved) as GeneratedStudy;
    await mkdir(workDir, { recursive: true });
  }
  const study = await generateStudy(workDir, SHAPES[shape]);
  if (reuse) await writeFile(manifest, JSON.stringify(study));
  return study;
}

if (require.main === module) {
  benchStore().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
