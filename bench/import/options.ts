import { parseArgs } from 'node:util';
import type { StudyShape } from '../export/options';

export const IMPORT_SECTIONS = ['wado', 'cget', 'cmove'] as const;
export type ImportSection = (typeof IMPORT_SECTIONS)[number];

export interface ImportBenchOptions {
  smoke: boolean;
  runs: number;
  sections: ReadonlySet<ImportSection>;
  enforce: boolean;
  keep: boolean;
  studies: StudyShape[];
}

export const USAGE = `usage: npm run bench:import -- [--smoke] [--runs N] [--only wado,cget,cmove] [--enforce] [--keep]

  --smoke     small studies (20 x 0.5 MB, 100 x 9.4 KB), 1 run
  --runs N    timed runs per scenario, the median is reported (default 3; 1 with --smoke)
  --only L    comma-separated: wado (WADO-RS import vs a second Orthanc retrieving over WADO-RS),
              cget (C-GET import vs DCMTK getscu), cmove (C-MOVE import vs movescu into storescp);
              default all three. One curl of the study's WADO-RS URL is always reported.
  --enforce   exit 2 when a target is missed (default: only errors make the exit code non-zero)
  --keep      keep the work directory (studies, service and Orthanc logs)`;

export const FULL_STUDIES: StudyShape[] = [
  { label: '200 x 0.5 MB', instances: 200, instanceBytes: 524_288, seriesSize: 100 },
  { label: '2000 x 9.4 KB', instances: 2000, instanceBytes: 9_400, seriesSize: 500 },
];
const SMOKE_STUDIES: StudyShape[] = [
  { label: '20 x 0.5 MB', instances: 20, instanceBytes: 524_288, seriesSize: 10 },
  { label: '100 x 9.4 KB', instances: 100, instanceBytes: 9_400, seriesSize: 50 },
];

export class UsageError extends Error {}

export function parseImportOptions(argv: readonly string[]): ImportBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        smoke: { type: 'boolean', default: false },
        runs: { type: 'string' },
        only: { type: 'string' },
        enforce: { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) throw new UsageError('');
  const runs = values.runs === undefined ? (values.smoke ? 1 : 3) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
    throw new UsageError(`--runs must be an integer 1..50, not '${values.runs ?? ''}'`);
  }
  const sections = new Set<ImportSection>();
  for (const item of (values.only ?? IMPORT_SECTIONS.join(',')).split(',').map((s) => s.trim())) {
    const section = IMPORT_SECTIONS.find((known) => known === item);
    if (!section) throw new UsageError(`--only: '${item}' is not one of ${IMPORT_SECTIONS.join(', ')}`);
    sections.add(section);
  }
  return {
    smoke: values.smoke,
    runs,
    sections,
    enforce: values.enforce,
    keep: values.keep,
    studies: values.smoke ? SMOKE_STUDIES : FULL_STUDIES,
  };
}
