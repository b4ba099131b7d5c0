import { parseArgs } from 'node:util';

export const SECTIONS = ['cstore', 'stow', 'baselines', 'memory'] as const;
export type Section = (typeof SECTIONS)[number];

/** One study shape: `instances` files of about `instanceBytes` each. */
export interface StudyShape {
  label: string;
  instances: number;
  instanceBytes: number;
  /** Files per series: the study is split into series of at most this many instances. */
  seriesSize: number;
}

export interface BenchOptions {
  smoke: boolean;
  runs: number;
  sections: ReadonlySet<Section>;
  /** Exit non-zero when a target is missed, not only on errors. */
  enforce: boolean;
  /** Keep the work directory (studies, logs) after the run, for a look at the logs. */
  keep: boolean;
  studies: StudyShape[];
  memoryStudy: StudyShape;
}

export const USAGE = `usage: npm run bench -- [--smoke] [--runs N] [--only cstore,stow,baselines,memory] [--memory] [--enforce] [--keep]

  --smoke     small studies (20 x 0.5 MB, 100 x 9.4 KB), 1 run; with --memory a 100 MB study
  --runs N    timed runs per scenario, the median is reported (default 3; 1 with --smoke)
  --only L    comma-separated sections: cstore (C-STORE exports and storescu), stow (STOW-RS
              exports and curl), baselines (storescu, curl and the loopback references),
              memory (peak RSS of the workers exporting a 2 GB study); default cstore,stow,baselines
  --memory    add the memory section to the default ones
  --enforce   exit 2 when a target is missed (default: only errors make the exit code non-zero)
  --keep      keep the work directory (generated studies, service and Orthanc logs)`;

const FULL_STUDIES: StudyShape[] = [
  { label: '200 x 0.5 MB', instances: 200, instanceBytes: 524_288, seriesSize: 100 },
  { label: '2000 x 9.4 KB', instances: 2000, instanceBytes: 9_400, seriesSize: 500 },
];
const SMOKE_STUDIES: StudyShape[] = [
  { label: '20 x 0.5 MB', instances: 20, instanceBytes: 524_288, seriesSize: 10 },
  { label: '100 x 9.4 KB', instances: 100, instanceBytes: 9_400, seriesSize: 50 },
];
const FULL_MEMORY_STUDY: StudyShape = {
  label: '400 x 5 MB',
  instances: 400,
  instanceBytes: 5 * 1024 * 1024,
  seriesSize: 100,
};
const SMOKE_MEMORY_STUDY: StudyShape = {
  label: '20 x 5 MB',
  instances: 20,
  instanceBytes: 5 * 1024 * 1024,
  seriesSize: 10,
};

export class UsageError extends Error {}

function parseSections(list: string): Set<Section> {
  const sections = new Set<Section>();
  for (const item of list.split(',').map((part) => part.trim())) {
    const section = SECTIONS.find((known) => known === item);
    if (!section) throw new UsageError(`--only: '${item}' is not one of ${SECTIONS.join(', ')}`);
    sections.add(section);
  }
  return sections;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        smoke: { type: 'boolean', default: false },
        runs: { type: 'string' },
        only: { type: 'string' },
        memory: { type: 'boolean', default: false },
        enforce: { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) throw new UsageError('');
  const runs = values.runs === undefined ? (values.smoke ? 1 : 3) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
    throw new UsageError(`--runs must be an integer 1..50, not '${values.runs ?? ''}'`);
  }
  const sections =
    values.only === undefined
      ? new Set<Section>(['cstore', 'stow', 'baselines'])
      : parseSections(values.only);
  if (values.memory) sections.add('memory');
  return {
    smoke: values.smoke,
    runs,
    sections,
    enforce: values.enforce,
    keep: values.keep,
    studies: values.smoke ? SMOKE_STUDIES : FULL_STUDIES,
    memoryStudy: values.smoke ? SMOKE_MEMORY_STUDY : FULL_MEMORY_STUDY,
  };
}
