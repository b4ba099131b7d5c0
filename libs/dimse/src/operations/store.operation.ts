import { isValidUid, quotePeerText } from '@pacslink/dicom';
import { storeIo } from '@pacslink/store';
import { DimseError, toDimseError, type DimseFailure, type FailureContext } from '../dimse.errors';
import {
  connectionOptionsProblem,
  normalizeConnectionOptions,
  type DimseConnectionOptions,
} from '../dimse.options';
import { describePresentationContextResult } from '../protocol/association-reject';
import { hex4, statusClass, storeStatusMeaning } from '../protocol/status';
import { sopClassName, transferSyntaxName } from '../protocol/uids';
import {
  CommandField,
  decodeCommand,
  encodeCStoreRq,
  PRIORITY_CODES,
  type DecodedCommand,
} from '../store/command-set';
import { openPart10, type OpenedPart10, type Part10Meta } from '../store/part10-file';
import { groupByContexts, proposeContexts } from '../store/presentation-contexts';
import { DatasetReadError, sendInstance } from '../store/send-instance';
import type { StoreInstance, StoreOptions, StoreOutcome } from '../store/store.types';
import { UlAssociation, UlFailure } from '../upper-layer/ul-association';

export type { StoreInstance, StoreOptions, StoreOutcome, StoreOutcomeStatus } from '../store/store.types';

/** Why this instance cannot be sent at all, or undefined. */
function instanceProblem(instance: StoreInstance): string | undefined {
  if (typeof instance.path !== 'string' || !instance.path.startsWith('/')) {
    return `path must be an absolute file path (got ${JSON.stringify(instance.path)})`;
  }
  for (const field of ['sopClassUid', 'sopInstanceUid', 'transferSyntaxUid'] as const) {
    const value: unknown = instance[field];
    if (typeof value !== 'string' || !isValidUid(value)) {
      return `${field} must be a UID of at most 64 characters (got ${JSON.stringify(value)})`;
    }
  }
  return undefined;
}

/** The index may be stale: the file must hold what the caller says it holds. */
function metaMismatch(instance: StoreInstance, meta: Part10Meta): string | undefined {
  const checks = [
    ['(0002,0002) MediaStorageSOPClassUID', meta.sopClassUid, instance.sopClassUid],
    ['(0002,0003) MediaStorageSOPInstanceUID', meta.sopInstanceUid, instance.sopInstanceUid],
    ['(0002,0010) TransferSyntaxUID', meta.transferSyntaxUid, instance.transferSyntaxUid],
  ] as const;
  for (const [name, inFile, given] of checks) {
    if (inFile !== given) return `${instance.path}: the file's ${name} is ${inFile}, not ${given}`;
  }
  return undefined;
}

function outcomeOfStatus(
  sopInstanceUid: string,
  status: number,
  errorComment: string | undefined,
): StoreOutcome {
  const cls = statusClass(status);
  if (cls === 'success') return { sopInstanceUid, status: 'success', statusCode: status };
  // The ErrorComment is the PACS's own words: quoted and bounded, for config-service to mask.
  const comment = errorComment ? `: ${quotePeerText(errorComment)}` : '';
  const reason = `${hex4(status)} (${storeStatusMeaning(status)})${comment}`;
  return { sopInstanceUid, status: cls === 'warning' ? 'warning' : 'failure', statusCode: status, reason };
}

type Step = { index: number; contextId: number } | { index: number; refused: string };

interface Run {
  readonly instances: readonly StoreInstance[];
  readonly outcomes: Array<StoreOutcome | undefined>;
  readonly options: StoreOptions;
  readonly settings: DimseConnectionOptions;
  readonly context: FailureContext;
  readonly started: number;
  messageId: number;
  completed: number;
}

function record(run: Run, index: number, outcome: StoreOutcome): void {
  run.outcomes[index] = outcome;
  run.completed++;
  run.options.onOutcome?.(outcome);
}

function failed(run: Run, failure: DimseFailure): DimseError {
  const elapsedMs = Math.round(performance.now() - run.started);
  const error = toDimseError(failure, { ...run.context, elapsedMs });
  run.settings.logger?.debug({
    msg: 'DIMSE exchange failed',
    command: 'C-STORE',
    host: run.context.host,
    port: run.context.port,
    calledAeTitle: run.context.calledAeTitle,
    code: error.code,
    phase: error.details.phase,
    completed: run.completed,
    total: run.instances.length,
    elapsedMs,
  });
  return error;
}

function cancelled(run: Run): DimseError {
  return failed(run, {
    kind: 'cancelled',
    detail: `stopped after ${run.completed} of ${run.instances.length} instances; the association was released`,
  });
}

/** Which accepted context carries each instance, or why none does. */
function planSteps(
  run: Run,
  indices: readonly number[],
  association: UlAssociation,
  contextIdOf: (index: number) => number,
): Step[] {
  const answers = new Map(association.accept.contexts.map((answer) => [answer.id, answer]));
  return indices.map((index) => {
    const instance = run.instances[index];
    const contextId = contextIdOf(index);
    const answer = answers.get(contextId);
    if (answer?.result === 0 && answer.transferSyntaxUid === instance.transferSyntaxUid)
      return { index, contextId };
    const what = `${sopClassName(instance.sopClassUid)} in ${transferSyntaxName(instance.transferSyntaxUid)}`;
    const why =
      answer?.result === 0
        ? `it answered with ${transferSyntaxName(answer.transferSyntaxUid ?? 'none')}, which was not proposed`
        : describePresentationContextResult(answer?.result);
    // Converting to another syntax is not done: see libs/dimse/README.md (C-STORE, transfer syntaxes).
    return { index, refused: `the PACS accepted no presentation context for ${what} (${why})` };
  });
}

function decodeResponse(run: Run, association: UlAssociation, bytes: Buffer): DecodedCommand {
  try {
    return decodeCommand(bytes);
  } catch (error) {
    association.abort();
    throw failed(run, {
      kind: 'protocol',
      phase: 'response',
      detail: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * Sends the instances at `indices` on one association, in order. Resolves with the indices still to
 * send when a file failed half-way (the association had to be aborted), else with none.
 */
async function storeOnOneAssociation(run: Run, indices: readonly number[]): Promise<number[]> {
  const instanceAt = (index: number): StoreInstance => run.instances[index];
  const { contexts, contextIdOf } = proposeContexts(indices.map(instanceAt));
  const { settings } = run;
  let association: UlAssociation;
  try {
    association = await UlAssociation.open(settings, contexts);
  } catch (error) {
    throw error instanceof UlFailure ? failed(run, error.failure) : error;
  }
  const steps = planSteps(run, indices, association, (index) => contextIdOf(instanceAt(index)));
  settings.logger?.debug({
    msg: 'association accepted',
    command: 'C-STORE',
    host: settings.host,
    port: settings.port,
    calledAeTitle: settings.calledAeTitle,
    contextsProposed: contexts.length,
    contextsAccepted: association.accept.contexts.filter((answer) => answer.result === 0).length,
    maxPduLength: association.accept.maxPduLength,
    instances: indices.length,
  });
  const priority = PRIORITY_CODES[run.options.priority ?? 'MEDIUM'];
  // The next file is opened and its head read right after a data set went out, while the peer
  // stores it: that work overlaps the wait for the C-STORE-RSP.
  let upcoming: { at: number; opened: Promise<OpenedPart10> } | undefined;
  const openNext = (from: number): void => {
    const at = steps.findIndex((step, position) => position >= from && 'contextId' in step);
    upcoming = at < 0 ? undefined : { at, opened: openPart10(instanceAt(steps[at].index).path) };
  };
  try {
    for (let at = 0; at < steps.length; at++) {
      const step = steps[at];
      const instance = instanceAt(step.index);
      if (run.options.signal?.aborted) {
        await association.release();
        throw cancelled(run);
      }
      if ('refused' in step) {
        record(run, step.index, {
          sopInstanceUid: instance.sopInstanceUid,
          status: 'failure',
          reason: step.refused,
        });
        continue;
      }
      const opened = await (upcoming?.at === at ? upcoming.opened : openPart10(instance.path));
      upcoming = undefined;
      if (!opened.ok) {
        record(run, step.index, {
          sopInstanceUid: instance.sopInstanceUid,
          status: 'failure',
          reason: opened.reason,
        });
        continue;
      }
      const file = opened.file;
      const problem =
        metaMismatch(instance, file.meta) ??
        (file.datasetOffset >= file.size
          ? `${instance.path}: no data set after the file meta information`
          : undefined);
      if (problem !== undefined) {
        await storeIo().close(file.fd);
        record(run, step.index, {
          sopInstanceUid: instance.sopInstanceUid,
          status: 'failure',
          reason: problem,
        });
        continue;
      }
      run.messageId = (run.messageId % 0xffff) + 1;
      const messageId = run.messageId;
      const command = encodeCStoreRq({
        sopClassUid: instance.sopClassUid,
        sopInstanceUid: instance.sopInstanceUid,
        messageId,
        priority,
      });
      try {
        await sendInstance(association, step.contextId, command, file);
      } catch (error) {
        if (!(error instanceof DatasetReadError)) throw error;
        // PS3.8 has no way to take back a data set half sent: abort, and go on on a new association.
        association.abort();
        record(run, step.index, {
          sopInstanceUid: instance.sopInstanceUid,
          status: 'failure',
          reason: `${instance.path}: ${error.message}`,
        });
        return steps.slice(at + 1).map((rest) => rest.index);
      } finally {
        await storeIo().close(file.fd);
      }
      openNext(at + 1);
      const response = decodeResponse(run, association, (await association.nextCommand()).bytes);
      if (
        response.commandField !== CommandField.CStoreRsp ||
        response.messageIdBeingRespondedTo !== messageId
      ) {
        association.abort();
        throw failed(run, {
          kind: 'protocol',
          phase: 'response',
          detail: `expected the C-STORE-RSP to message ${messageId}, got command 0x${response.commandField.toString(16)} answering ${String(response.messageIdBeingRespondedTo)}`,
        });
      }
      if (response.status === undefined) {
        association.abort();
        throw failed(run, {
          kind: 'protocol',
          phase: 'response',
          detail: 'a C-STORE-RSP without (0000,0900) Status',
        });
      }
      record(
        run,
        step.index,
        outcomeOfStatus(instance.sopInstanceUid, response.status, response.errorComment),
      );
    }
    await association.release();
    return [];
  } catch (error) {
    association.abort();
    if (error instanceof UlFailure) throw failed(run, error.failure);
    // a DimseError, or the caller's own exception from onOutcome, as it was thrown
    throw error;
  } finally {
    const unused = await upcoming?.opened;
    if (unused?.ok === true) await storeIo().close(unused.file.fd);
  }
}

/**
 * C-STORE SCU (PS3.4 Annex B, PS3.7 9.1.1): sends every instance on one association that proposes a
 * presentation context per (SOP class, transfer syntax) pair, and resolves with one outcome per
 * instance in input order. Instance-level problems (no accepted context, a failure status, an
 * unreadable file) are outcomes; association-level problems reject with a DimseError, after which
 * the outcomes already given to `onOutcome` stay valid. More than 128 pairs take one association
 * per 128, one after the other (PS3.8 9.3.2.2).
 */
export async function store(
  connection: DimseConnectionOptions,
  instances: readonly StoreInstance[],
  options: StoreOptions = {},
): Promise<StoreOutcome[]> {
  const context: FailureContext = {
    host: connection.host,
    port: connection.port,
    callingAeTitle: connection.callingAeTitle,
    calledAeTitle: connection.calledAeTitle,
    command: 'C-STORE',
    service: 'Storage',
  };
  const problem =
    connectionOptionsProblem(connection) ??
    (Array.isArray(instances) ? undefined : 'instances must be an array') ??
    (options.priority === undefined || options.priority in PRIORITY_CODES
      ? undefined
      : `priority must be LOW, MEDIUM or HIGH (got ${JSON.stringify(options.priority)})`);
  if (problem !== undefined) throw toDimseError({ kind: 'invalid-request', problem }, context);
  const settings = normalizeConnectionOptions(connection);
  const run: Run = {
    instances,
    outcomes: new Array<StoreOutcome | undefined>(instances.length),
    options,
    settings,
    context: {
      ...context,
      host: settings.host,
      callingAeTitle: settings.callingAeTitle,
      calledAeTitle: settings.calledAeTitle,
    },
    started: performance.now(),
    messageId: 0,
    completed: 0,
  };
  if (options.signal?.aborted) throw cancelled(run);
  const sendable: number[] = [];
  instances.forEach((instance, index) => {
    const reason = instanceProblem(instance);
    if (reason === undefined) sendable.push(index);
    else record(run, index, { sopInstanceUid: String(instance.sopInstanceUid), status: 'failure', reason });
  });
  for (const group of groupByContexts(sendable.map((index) => instances[index]))) {
    let remaining = group.map((position) => sendable[position]);
    while (remaining.length > 0) {
      if (options.signal?.aborted) throw cancelled(run);
      remaining = await storeOnOneAssociation(run, remaining);
    }
  }
  settings.logger?.debug({
    msg: 'C-STORE done',
    host: settings.host,
    port: settings.port,
    calledAeTitle: settings.calledAeTitle,
    instances: instances.length,
    failures: run.outcomes.filter((outcome) => outcome?.status === 'failure').length,
    elapsedMs: Math.round(performance.now() - run.started),
  });
  return run.outcomes as StoreOutcome[];
}
