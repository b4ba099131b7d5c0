import { readFileSync } from 'node:fs';

/** `--name value` from the command line, or `fallback`. */
export function argument(name: string, fallback: string, argv: readonly string[] = process.argv): string {
  const at = argv.indexOf(`--${name}`);
  return at < 0 ? fallback : (argv[at + 1] ?? fallback);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The 1, 5 and 15 minute load averages: the machine is shared, so each bench says how busy it was. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** One row of the side-by-side table: a scenario timed on our engine and on DCMTK. */
export interface Comparison {
  scenario: string;
  /** Median seconds (or ms, per `unit`) of ours and of DCMTK. */
  ours: number;
  dcmtk: number;
  unit: 's' | 'ms';
  /** The bound on DCMTK time / our time; undefined for figures shown for reference. */
  target?: number;
  /** How each figure was taken, e.g. "median of 5, interleaved". */
  note: string;
}

export function ratioOf(row: Comparison): number {
  return row.dcmtk / row.ours;
}

/** The Markdown table the docs quote: scenario | ours | DCMTK | ratio | target | met? */
export function comparisonTable(rows: readonly Comparison[]): string {
  const figure = (value: number, unit: Comparison['unit']) =>
    unit === 's' ? `${value.toFixed(2)} s` : `${value.toFixed(1)} ms`;
  const lines = [
    '| scenario | ours | DCMTK | ratio (DCMTK / ours) | target | met? | runs |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const ratio = ratioOf(row);
    const target = row.target === undefined ? 'reference' : `≥ ${row.target.toFixed(1)}×`;
    const met = row.target === undefined ? '' : ratio >= row.target ? 'yes' : '**no**';
    lines.push(
      `| ${row.scenario} | ${figure(row.ours, row.unit)} | ${figure(row.dcmtk, row.unit)} | ${ratio.toFixed(2)}× | ${target} | ${met} | ${row.note} |`,
    );
  }
  return lines.join('\n');
}
