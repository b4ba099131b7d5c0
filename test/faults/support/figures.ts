import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '@pacslink/testing';
import { FAULTS_DIR } from './fault-stack';

/** One row of the figures table, whatever the case's assertions then say. */
export interface FigureRow {
  case: string;
  started: number;
  completed: number;
  /** Failed transfers by reason. */
  failed: Record<string, number>;
  /** Transfers with no terminal state or no terminal event when the case gave up waiting. */
  lost: number;
  duplicatedTerminalEvents: number;
  doubleSentBatches: number;
  /** From the end of the fault (or the case's start) until the last transfer ended. */
  recoverMs?: number;
  /** What the end state check found wrong; empty when the case passed. */
  problems: string[];
}

const HEADER = [
  '| case | transfers started | completed | failed (reason) | lost | duplicated terminal events | double-sent batches | time to recover | end state |',
  '| --- | --: | --: | --- | --: | --: | --: | --: | --- |',
];

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
}

function line(row: FigureRow): string {
  const failures = Object.entries(row.failed);
  const failed =
    failures.length === 0 ? '0' : failures.map(([reason, count]) => `${count} (${cell(reason)})`).join('; ');
  const recover = row.recoverMs === undefined ? '—' : `${(row.recoverMs / 1000).toFixed(1)} s`;
  const state =
    row.problems.length === 0
      ? 'ok'
      : `**${row.problems.length} problem${row.problems.length > 1 ? 's' : ''}**: ${cell(row.problems[0])}`;
  return `| ${cell(row.case)} | ${row.started} | ${row.completed} | ${failed} | ${row.lost} | ${row.duplicatedTerminalEvents} | ${row.doubleSentBatches} | ${recover} | ${state} |`;
}

function runDir(): string {
  return join(FAULTS_DIR, testRunId());
}

let recorded = 0;

/** Rows this process recorded so far: a case that ends without one stopped before its end state. */
export function rowsRecorded(): number {
  return recorded;
}

/**
 * Appends the row to this run's rows (one JSON line each: suite files run in parallel jest workers)
 * and rewrites tmp/faults/figures.md with every row of the run so far.
 */
export async function recordFigure(row: FigureRow): Promise<void> {
  await mkdir(runDir(), { recursive: true });
  await appendFile(join(runDir(), 'rows.jsonl'), `${JSON.stringify(row)}\n`);
  recorded += 1;
  await writeFile(join(FAULTS_DIR, 'figures.md'), await figuresTable());
}

/** The run's table in Markdown, rows in the order the cases ended. */
export async function figuresTable(): Promise<string> {
  const text = await readFile(join(runDir(), 'rows.jsonl'), 'utf8').catch(() => '');
  const rows = text
    .split('\n')
    .filter((entry) => entry !== '')
    .map((entry) => JSON.parse(entry) as FigureRow);
  return [
    `Fault suite, run ${testRunId()} (${new Date().toISOString()}); logs in ${runDir()}`,
    '',
    ...HEADER,
    ...rows.map(line),
    '',
  ].join('\n');
}
