import { rm } from 'node:fs/promises';
import { deleteStudyFromOrthanc, type OrthancPeer } from '@pacslink/testing';
import { expectStudyComplete } from './bench-orthanc';
import { log } from './log';
import { peakMemoryDuring, type PeakMemory } from './memory';
import type { StudyShape } from './options';
import type { PacslinkApi } from './pacslink-api';
import { exportStudy, type ExportTarget } from './pacslink-export';
import type { AppName, PacslinkStack } from './pacslink-services';
import { markdownTable, type Verdict } from './report';
import { generateBenchStudy } from './studies';
import type { TransferEvents } from './transfer-events';

export const PEAK_RSS_TARGET_MIB = 256;
const SHOWN: readonly AppName[] = ['dimse-worker', 'dicomweb-worker', 'config-service'];

export interface MemoryContext {
  workDir: string;
  shape: StudyShape;
  orthanc: OrthancPeer;
  stack: PacslinkStack;
  api: PacslinkApi;
  events: TransferEvents;
  targets: readonly ExportTarget[];
}

const mib = (kb: number) => kb / 1024;

/**
 * Peak RSS of the services while a large study is uploaded into the store and then exported by
 * each method; the worker doing the export must stay within 256 MiB (issue 5).
 */
export async function memorySection(context: MemoryContext): Promise<{ table: string; verdict: Verdict }> {
  const { stack, api, orthanc, shape } = context;
  const verdict: Verdict = { missed: [], errors: [] };
  const services = SHOWN.map((app) => stack.services[app]);
  const rows: string[][] = [];
  const row = (name: string, seconds: number, peaks: PeakMemory[], target: string) => [
    name,
    shape.label,
    seconds.toFixed(1),
    ...SHOWN.map((app) => mib(peaks.find((peak) => peak.app === app)?.peakKb ?? 0).toFixed(0)),
    target,
  ];
  const timed = async (work: () => Promise<unknown>) => {
    const started = process.hrtime.bigint();
    const peaks = await peakMemoryDuring(services, work);
    return { peaks, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  };

  log(`memory: generating ${shape.label}`);
  const study = await generateBenchStudy(context.workDir, shape);
  try {
    log(`memory: uploading ${(study.totalBytes / 1e6).toFixed(0)} MB into the store`);
    const upload = await timed(() => api.uploadStudy(study));
    rows.push(row('upload: POST /studies', upload.seconds, upload.peaks, ''));
    for (const target of context.targets) {
      const worker: AppName = target.kind === 'cstore' ? 'dimse-worker' : 'dicomweb-worker';
      try {
        await deleteStudyFromOrthanc(orthanc, study.studyInstanceUid);
        log(`memory: ${target.name}`);
        const run = await timed(() => exportStudy(api, context.events, target.pacsConfigId, study));
        await expectStudyComplete(orthanc, study.studyInstanceUid, study.files.length);
        const peak = mib(run.peaks.find((p) => p.app === worker)?.peakKb ?? 0);
        const met = peak <= PEAK_RSS_TARGET_MIB;
        if (!met)
          verdict.missed.push(`${target.name} / ${shape.label}: ${worker} peaked at ${peak.toFixed(0)} MiB`);
        rows.push(
          row(
            target.name,
            run.seconds,
            run.peaks,
            `${worker} <= ${PEAK_RSS_TARGET_MIB} MiB ${met ? 'met' : 'MISSED'}`,
          ),
        );
      } catch (error) {
        verdict.errors.push(`memory, ${target.name}: ${(error as Error).message}`);
        rows.push([target.name, shape.label, 'error', '', '', '', 'see below']);
      }
    }
  } catch (error) {
    verdict.errors.push(`memory: ${(error as Error).message}`);
  } finally {
    // Gigabytes: free them now rather than at the end of the run.
    await deleteStudyFromOrthanc(orthanc, study.studyInstanceUid).catch(() => undefined);
    await api.deleteStudy(study.studyInstanceUid).catch(() => undefined);
    await rm(study.directory, { recursive: true, force: true });
  }
  const table = markdownTable(
    ['run', 'study', 'seconds', ...SHOWN.map((app) => `${app} peak MiB`), 'target'],
    rows,
  );
  return { table, verdict };
}
