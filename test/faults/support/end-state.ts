import { setTimeout as sleep } from 'node:timers/promises';
import type { GeneratedStudy } from '@pacslink/testing';
import type { FaultStack } from './fault-stack';
import { recordFigure, type FigureRow } from './figures';
import { storedProblem, type SuitePacs } from './suite-pacs';

export interface CaseTransfer {
  id: string;
  study: GeneratedStudy;
  pacs: SuitePacs;
}

export interface CaseEnd {
  /** The case's name: the first column of the figures. */
  name: string;
  transfers: readonly CaseTransfer[];
  /** When the fault ended (process back, link restored): time to recover counts from here. */
  faultEndedAt: number;
  /** How long every transfer may take to end after the fault did. */
  waitMs: number;
  /** Transfers that must fail, and what their error must say; every other one must complete. */
  expectFailed?: { ids: ReadonlySet<string>; reason: RegExp };
  /** Messages a case leaves in a queue on purpose; every other pacslink queue must be empty. */
  expectedInQueues?: Readonly<Record<string, number>>;
  /** What the case itself found wrong (e.g. a replica that outlived its grace period). */
  problems?: readonly string[];
  /** The case's own checks, run once every transfer ended (e.g. how often a PACS was tried). */
  checks?: () => Promise<readonly string[]> | readonly string[];
}

const TERMINAL = ['completed', 'failed', 'cancelled'];
const EVENT_PATIENCE_MS = 20_000;
/** After the last terminal event, a duplicate published by a restarted relay still has this long to show. */
const DUPLICATE_WINDOW_MS = 3_000;
const QUEUE_PATIENCE_MS = 30_000;

interface TransferRow {
  id: string;
  status: string;
  error: string | null;
}

/** A failure reason without what varies from transfer to transfer (ids, UIDs, counts), for grouping. */
function reasonKey(error: string): string {
  const text = (error === '' ? 'no reason given' : error)
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/\b\d+(\.\d+){4,}\b/g, '<uid>')
    .replace(/:\d{2,5}\b/g, ':<port>');
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

async function transferRows(stack: FaultStack, ids: readonly string[]): Promise<Map<string, TransferRow>> {
  const rows = await stack.query<TransferRow>(
    'SELECT id, status, error FROM transfer WHERE id = ANY($1::uuid[])',
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

/** Waits until every transfer is terminal in the database, or `waitMs` passed. */
async function waitForEnds(stack: FaultStack, ids: readonly string[], waitMs: number) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const rows = await transferRows(stack, ids);
    const open = ids.filter((id) => !TERMINAL.includes(rows.get(id)?.status ?? ''));
    if (open.length === 0 || Date.now() > deadline) return rows;
    await sleep(500);
  }
}

async function waitForTerminalEvents(stack: FaultStack, ids: readonly string[]): Promise<void> {
  const deadline = Date.now() + EVENT_PATIENCE_MS;
  while (Date.now() < deadline && ids.some((id) => stack.events.terminal(id).length === 0)) await sleep(200);
  await sleep(DUPLICATE_WINDOW_MS);
}

async function leftRunning(stack: FaultStack): Promise<string[]> {
  const rows = await stack.query<{ what: string; n: number }>(
    `SELECT 'transfers ' || status AS what, count(*)::int AS n FROM transfer
      WHERE status IN ('queued', 'running') GROUP BY status
     UNION ALL
     SELECT 'batches ' || state, count(*)::int FROM transfer_batch
      WHERE state IN ('pending', 'dispatched', 'running') GROUP BY state`,
  );
  return rows.map((row) => `${row.n} ${row.what} left in the database`);
}

interface QueueStats {
  name: string;
  messages_unacknowledged?: number;
}

/**
 * pacslink queues holding other than what the case expects: ready messages counted over AMQP
 * (exact), unacknowledged ones from the management API (its statistics lag: polled a while).
 */
async function undrainedQueues(
  stack: FaultStack,
  expected: Readonly<Record<string, number>>,
): Promise<string[]> {
  const deadline = Date.now() + QUEUE_PATIENCE_MS;
  for (;;) {
    const last = Date.now() > deadline;
    const queues = await stack.management.call<QueueStats[]>(
      'GET',
      `/queues/${encodeURIComponent(stack.vhost.name)}?columns=name,messages_unacknowledged`,
    );
    const wrong: string[] = [];
    for (const queue of queues.filter(({ name }) => name.startsWith('pacslink.'))) {
      const ready = await stack.broker.ready(queue.name);
      const held = ready + (queue.messages_unacknowledged ?? 0);
      const wanted = expected[queue.name] ?? 0;
      if (held === wanted) continue;
      const what = last && ready > 0 ? `: ${await stack.broker.describe(queue.name)}` : '';
      wrong.push(`queue ${queue.name} holds ${held} messages (expected ${wanted})${what}`);
    }
    if (wrong.length === 0 || last) return wrong;
    await sleep(1_000);
  }
}

/**
 * Empties what nothing consumes (dead-letter queues, pacslink.unroutable, a queue without its
 * service), except what the case itself takes next: the next case counts only its own leftovers.
 */
async function emptyUnconsumedQueues(
  stack: FaultStack,
  keep: Readonly<Record<string, number>>,
): Promise<void> {
  const vhost = encodeURIComponent(stack.vhost.name);
  const queues = await stack.management.call<{ name: string; consumers?: number }[]>(
    'GET',
    `/queues/${vhost}?columns=name,consumers`,
  );
  for (const queue of queues) {
    if (!queue.name.startsWith('pacslink.') || (queue.consumers ?? 0) > 0 || queue.name in keep) continue;
    await stack.management.call('DELETE', `/queues/${vhost}/${encodeURIComponent(queue.name)}/contents`);
  }
}

interface TransferFigures {
  completed: number;
  failed: Record<string, number>;
  lost: number;
  duplicatedTerminalEvents: number;
  /** When the last transfer's terminal event arrived (0: none did). */
  lastEnd: number;
  problems: string[];
}

/** Each transfer's status, terminal events and (completed) instances at its PACS. */
async function measureTransfers(
  stack: FaultStack,
  end: CaseEnd,
  rows: ReadonlyMap<string, TransferRow>,
): Promise<TransferFigures> {
  const figures: TransferFigures = {
    completed: 0,
    failed: {},
    lost: 0,
    duplicatedTerminalEvents: 0,
    lastEnd: 0,
    problems: [],
  };
  const { problems } = figures;
  for (const transfer of end.transfers) {
    const row = rows.get(transfer.id);
    const status = row?.status ?? 'missing';
    const error = row?.error ?? '';
    const events = stack.events.terminal(transfer.id);
    const to = `transfer ${transfer.id} to ${transfer.pacs.name}`;
    if (status === 'completed') figures.completed += 1;
    if (status === 'failed') figures.failed[reasonKey(error)] = (figures.failed[reasonKey(error)] ?? 0) + 1;
    if (!TERMINAL.includes(status) || events.length === 0) {
      figures.lost += 1;
      problems.push(`${to} is ${status} with ${events.length} terminal events`);
      continue;
    }
    figures.duplicatedTerminalEvents += events.length - 1;
    figures.lastEnd = Math.max(figures.lastEnd, events[0].at);
    if (events.length > 1) {
      problems.push(
        `${to} has ${events.length} terminal events (${events.map((e) => `${e.type} ${e.eventId}`).join(', ')})`,
      );
    }
    if (events[0].type !== `transfer.${status}`) {
      problems.push(`${to} is ${status} but its terminal event is ${events[0].type}`);
    }
    const mustFail = end.expectFailed?.ids.has(transfer.id) ?? false;
    if (mustFail && !(status === 'failed' && end.expectFailed?.reason.test(error))) {
      problems.push(
        `${to} should have failed (${String(end.expectFailed?.reason)}) but is ${status}: ${error}`,
      );
    }
    if (!mustFail && status !== 'completed') problems.push(`${to} ${status}: ${error}`);
    if (status !== 'completed') continue;
    for (const instance of transfer.study.series.flatMap((series) => series.instances)) {
      const problem = await storedProblem(transfer.pacs, instance);
      if (problem) problems.push(problem);
    }
  }
  return figures;
}

/** What the probes saw: batches sent by two senders at once, more associations than allowed. */
function senderProblems(end: CaseEnd): { doubleSentBatches: number; problems: string[] } {
  const pacsList = new Map(end.transfers.map(({ pacs }) => [pacs.name, pacs]));
  let doubleSentBatches = 0;
  const problems: string[] = [];
  for (const pacs of pacsList.values()) {
    if (!pacs.probe) continue;
    doubleSentBatches += pacs.probe.doubleSent;
    if (pacs.probe.doubleSent > 0) {
      const example = [...pacs.probe.doubleSentUids][0];
      problems.push(
        `${pacs.probe.doubleSent} batches to ${pacs.name} were sent by two senders at once (e.g. ${example})`,
      );
    }
    if (pacs.maxAssociations !== undefined && pacs.probe.maxOpen > pacs.maxAssociations) {
      problems.push(
        `${pacs.name} had ${pacs.probe.maxOpen} associations at once (maxAssociations ${pacs.maxAssociations})`,
      );
    }
  }
  return { doubleSentBatches, problems };
}

/**
 * The end state every case must reach, measured into a figures row (recorded whatever it says),
 * then asserted: each transfer completed (or failed for the stated reason), every instance of a
 * completed transfer at its PACS exactly as uploaded, exactly one terminal event per transfer,
 * nothing left queued or running, no batch sent by two senders at once and no more associations
 * than allowed, every queue drained, no replica crashed.
 */
export async function settleCase(stack: FaultStack, end: CaseEnd): Promise<FigureRow> {
  const ids = end.transfers.map((transfer) => transfer.id);
  const rows = await waitForEnds(stack, ids, end.waitMs);
  await waitForTerminalEvents(stack, ids);

  const transfers = await measureTransfers(stack, end, rows);
  const senders = senderProblems(end);
  const problems = [
    ...transfers.problems,
    ...senders.problems,
    ...(end.problems ?? []),
    ...((await end.checks?.()) ?? []),
    ...(await leftRunning(stack)),
    ...(await undrainedQueues(stack, end.expectedInQueues ?? {})),
    ...stack.crashes().map((replica) => `${replica.name} exited by itself (see ${replica.logFile})`),
  ];
  const figure: FigureRow = {
    case: end.name,
    started: end.transfers.length,
    completed: transfers.completed,
    failed: transfers.failed,
    lost: transfers.lost,
    duplicatedTerminalEvents: transfers.duplicatedTerminalEvents,
    doubleSentBatches: senders.doubleSentBatches,
    recoverMs: transfers.lastEnd > 0 ? Math.max(0, transfers.lastEnd - end.faultEndedAt) : undefined,
    problems,
  };
  await recordFigure(figure);
  await emptyUnconsumedQueues(stack, end.expectedInQueues ?? {});
  if (problems.length > 0) {
    throw new Error(
      `${end.name}: ${problems.length} problems with the end state (logs in ${stack.dir}/logs):\n  ${problems.join('\n  ')}`,
    );
  }
  return figure;
}
