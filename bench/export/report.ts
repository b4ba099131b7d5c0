import { median, type Measurement, type ScenarioKind } from './measure';

export interface Verdict {
  /** Lines such as "pacslink C-STORE ... / 200 x 0.5 MB: 0.61x storescu, target 0.8x". */
  missed: string[];
  errors: string[];
}

const BASELINE_OF: Partial<Record<ScenarioKind, { kind: ScenarioKind; name: string }>> = {
  cstore: { kind: 'storescu', name: 'storescu' },
  stow: { kind: 'curl', name: 'curl' },
  wado: { kind: 'orthanc-wado', name: 'Orthanc' },
  cget: { kind: 'getscu', name: 'getscu' },
  cmove: { kind: 'movescu', name: 'movescu' },
};

/** A Markdown table with padded columns, readable in a terminal and pasteable into docs. */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

function baselineFor(measurement: Measurement, all: readonly Measurement[]) {
  const baseline = BASELINE_OF[measurement.scenario.kind];
  if (!baseline) return undefined;
  const found = all.find(
    (other) => other.scenario.kind === baseline.kind && other.scenario.study === measurement.scenario.study,
  );
  return found && found.seconds.length > 0
    ? { name: baseline.name, seconds: median(found.seconds) }
    : undefined;
}

/** scenario x study: median seconds, throughput, and the ratio to storescu / curl with its target. */
export function throughputReport(measurements: readonly Measurement[]): { table: string; verdict: Verdict } {
  const verdict: Verdict = { missed: [], errors: [] };
  const rows = measurements.map((measurement) => {
    const { scenario } = measurement;
    const { study } = scenario;
    const label = `${scenario.name} / ${study.shape.label}`;
    if (measurement.error !== undefined) {
      verdict.errors.push(`${label}: ${measurement.error}`);
      return [scenario.name, study.shape.label, 'error', '', '', '', '', '', 'see below'];
    }
    const seconds = median(measurement.seconds);
    const baseline = baselineFor(measurement, measurements);
    const ratio = baseline ? baseline.seconds / seconds : undefined;
    let target = '';
    if (scenario.target !== undefined) {
      if (ratio === undefined) target = `>= ${scenario.target}x (no baseline)`;
      else if (ratio >= scenario.target) target = `>= ${scenario.target}x met`;
      else {
        target = `>= ${scenario.target}x MISSED`;
        verdict.missed.push(
          `${label}: ${ratio.toFixed(2)}x ${baseline?.name ?? ''}, target ${scenario.target}x`,
        );
      }
    }
    return [
      scenario.name,
      study.shape.label,
      seconds.toFixed(2),
      measurement.seconds.map((run) => run.toFixed(2)).join(' '),
      measurement.startSeconds.length > 0 ? median(measurement.startSeconds).toFixed(2) : '',
      (study.files.length / seconds).toFixed(0),
      (study.totalBytes / 1e6 / seconds).toFixed(1),
      ratio === undefined || !baseline ? '' : `${ratio.toFixed(2)}x ${baseline.name}`,
      target,
    ];
  });
  const table = markdownTable(
    ['scenario', 'study', 'median s', 'runs s', 'to start s', 'inst/s', 'MB/s', 'ratio', 'target'],
    rows,
  );
  return { table, verdict };
}
