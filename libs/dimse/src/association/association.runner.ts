import {
  toDimseError,
  type AssociationPhase,
  type DimseError,
  type DimseFailure,
  type FailureContext,
} from '../dimse.errors';
import {
  connectionOptionsProblem,
  normalizeConnectionOptions,
  type DimseConnectionOptions,
} from '../dimse.options';
import { isPending } from '../protocol/status';
import { resolvePeer } from './resolve-peer';
import { serviceName } from '../protocol/uids';
import type {
  DimseRequestSpec,
  DimseResponseMessage,
  NegotiatedContext,
  Transport,
  TransportHandle,
} from './transport';

/** One DIMSE operation on its own association: what to send and how to read the answers. */
export interface DimseOperation<T> {
  readonly request: DimseRequestSpec;
  readonly abstractSyntaxUid: string;
  /**
   * Handles one response (pending or final). Returning a failure ends the exchange with it: with an
   * A-ABORT when more responses were coming, with the normal release after a final one.
   */
  onResponse(response: DimseResponseMessage, control: OperationControl): DimseFailure | undefined;
  result(): T;
}

export interface OperationControl {
  /** C-CANCEL (PS3.7 9.1.2.1.x): ask the peer to stop sending matches */
  cancel(): void;
}

export interface AssociationOutcome<T> {
  value: T;
  /** from the call to the end of the association (released and closed) */
  elapsedMs: number;
}

/** Margin given to the network stack's own timers so that ours, which know the phase, fire first. */
const STACK_TIMEOUT_MARGIN_MS = 2_000;

function stackErrorFailure(
  error: Error,
  phase: AssociationPhase,
  stackTimeoutMs: number,
  firstBytes: Buffer | undefined,
): DimseFailure {
  // dcmjs-dimse prefixes its messages with "<AE title> -> "; the rest is for people.
  const detail = error.message.replace(/^[^>]*-> /, '');
  if (/timeout/i.test(detail)) return { kind: 'timeout', phase, timeoutMs: stackTimeoutMs };
  return { kind: 'protocol', phase, detail, firstBytes };
}

/**
 * Opens an association, sends the operation's request, collects the answers, releases and closes.
 * Every wait is bounded by a timer that knows its phase (connect, association, response, release);
 * the outcome is decided once, when the connection is gone, from everything observed until then:
 * a recorded failure wins, then a completed exchange, then what the socket or the stack said.
 */
export async function runAssociation<T>(
  options: DimseConnectionOptions,
  operation: DimseOperation<T>,
  transport: Transport,
): Promise<AssociationOutcome<T>> {
  const command = operation.request.command;
  const service = serviceName(operation.abstractSyntaxUid);
  const problem = connectionOptionsProblem(options);
  if (problem !== undefined) {
    const context: FailureContext = { ...options, command, service };
    throw toDimseError({ kind: 'invalid-request', problem }, context);
  }
  const settings = normalizeConnectionOptions(options);
  const { logger } = settings;
  const context: FailureContext = {
    host: settings.host,
    port: settings.port,
    callingAeTitle: settings.callingAeTitle,
    calledAeTitle: settings.calledAeTitle,
    command,
    service,
  };
  const started = performance.now();
  // dcmjs-dimse opens its own socket: it is given the checked address itself, never the name.
  const peer = await resolvePeer(settings);
  if ('failure' in peer) {
    const error = toDimseError(peer.failure, {
      ...context,
      elapsedMs: Math.round(performance.now() - started),
    });
    logger?.debug({
      msg: 'DIMSE exchange failed',
      command,
      host: context.host,
      port: context.port,
      code: error.code,
    });
    throw error;
  }

  return new Promise<AssociationOutcome<T>>((resolve, reject) => {
    let phase: AssociationPhase = 'connect';
    let failure: DimseFailure | undefined;
    let finalReceived = false;
    let releaseAnswered = false;
    let socketError: NodeJS.ErrnoException | undefined;
    let stackError: Error | undefined;
    let firstBytes: Buffer | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let handle: TransportHandle | undefined;

    const timeoutOf: Record<AssociationPhase, number> = {
      connect: peer.remainingMs,
      association: settings.associationTimeoutMs,
      response: settings.pduTimeoutMs,
      release: settings.pduTimeoutMs,
    };
    const enter = (next: AssociationPhase): void => {
      phase = next;
      clearTimeout(timer);
      timer = setTimeout(onTimeout, timeoutOf[next]);
    };
    const fail = (observed: DimseFailure): void => {
      failure ??= observed;
    };
    const closeSoon = (): void => {
      // after the stack's own handler for the same event has run
      setImmediate(() => handle?.close());
    };

    function onTimeout(): void {
      timer = undefined;
      switch (phase) {
        case 'connect':
        case 'association':
          // PS3.8 9.2 (ARTIM): without an association there is nothing to abort; close the connection.
          fail({ kind: 'timeout', phase, timeoutMs: timeoutOf[phase] });
          handle?.close();
          break;
        case 'response':
          fail({ kind: 'timeout', phase, timeoutMs: timeoutOf[phase] });
          handle?.abort();
          break;
        case 'release':
          if (failure === undefined) {
            logger?.warn({
              msg: 'the peer did not answer the A-RELEASE-RQ; closing the connection',
              host: context.host,
              port: context.port,
              calledAeTitle: context.calledAeTitle,
              timeoutMs: timeoutOf.release,
            });
          }
          handle?.close();
          break;
      }
    }

    function decide(): DimseFailure | undefined {
      if (failure !== undefined) return failure;
      if (finalReceived) return undefined;
      if (socketError !== undefined) {
        return { kind: 'socket-error', phase, errorCode: socketError.code, message: socketError.message };
      }
      if (stackError !== undefined) {
        return stackErrorFailure(stackError, phase, timeoutOf[phase] + STACK_TIMEOUT_MARGIN_MS, firstBytes);
      }
      if (releaseAnswered) return { kind: 'no-final-response' };
      return { kind: 'closed-by-peer', phase };
    }

    function settle(): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const elapsedMs = Math.round(performance.now() - started);
      const observed = decide();
      if (observed === undefined) {
        resolve({ value: operation.result(), elapsedMs });
        return;
      }
      const error: DimseError = toDimseError(observed, { ...context, elapsedMs });
      logger?.debug({
        msg: 'DIMSE exchange failed',
        command,
        host: context.host,
        port: context.port,
        calledAeTitle: context.calledAeTitle,
        code: error.code,
        phase: error.details.phase,
        elapsedMs,
      });
      reject(error);
    }

    function onAccepted(contexts: readonly NegotiatedContext[]): void {
      const ours = contexts.filter(
        (candidate) => candidate.abstractSyntaxUid === operation.abstractSyntaxUid,
      );
      const accepted = ours.find((candidate) => candidate.result === 0);
      logger?.debug({
        msg: 'association accepted',
        command,
        host: context.host,
        port: context.port,
        callingAeTitle: context.callingAeTitle,
        calledAeTitle: context.calledAeTitle,
        transferSyntaxUid: accepted?.transferSyntaxUid,
        contextResult: ours[0]?.result,
      });
      if (accepted === undefined) {
        // Trap 4: dcmjs-dimse would skip the request silently and release as if all went well.
        fail({ kind: 'context-rejected', result: ours[0]?.result });
        enter('release');
        return;
      }
      enter('response');
    }

    function onResponse(response: DimseResponseMessage): void {
      if (settled || phase !== 'response') return;
      const pending = isPending(response.status);
      enter('response');
      const problem = operation.onResponse(response, { cancel: () => handle?.cancel() });
      if (problem !== undefined) {
        fail(problem);
        if (pending) {
          handle?.abort();
          return;
        }
      }
      if (!pending) {
        finalReceived = true;
        enter('release');
      }
    }

    enter('connect');
    try {
      handle = transport(
        {
          host: peer.addresses[0].address,
          port: settings.port,
          callingAeTitle: settings.callingAeTitle,
          calledAeTitle: settings.calledAeTitle,
          connectTimeoutMs: settings.connectTimeoutMs + STACK_TIMEOUT_MARGIN_MS,
          associationTimeoutMs: settings.associationTimeoutMs + STACK_TIMEOUT_MARGIN_MS,
          pduTimeoutMs: settings.pduTimeoutMs + STACK_TIMEOUT_MARGIN_MS,
        },
        operation.request,
        {
          connected: () => {
            if (phase === 'connect') enter('association');
          },
          accepted: onAccepted,
          rejected: (associateReject) => {
            fail({ kind: 'association-rejected', reject: associateReject });
            closeSoon();
          },
          aborted: (abort) => {
            fail({ kind: 'association-aborted', phase, abort });
            closeSoon();
          },
          response: onResponse,
          released: () => {
            releaseAnswered = true;
            // Trap 11: dcmjs-dimse only half-closes after A-RELEASE-RP and waits for the peer.
            closeSoon();
          },
          data: (chunk) => {
            firstBytes ??= Buffer.from(chunk.subarray(0, 16));
            // A C-FIND answer may span PDUs: any byte from the peer proves it is still working.
            if (phase === 'response') enter('response');
          },
          socketError: (error) => {
            socketError ??= error;
          },
          stackError: (error) => {
            stackError ??= error;
            closeSoon();
          },
          closed: settle,
        },
      );
    } catch (error) {
      clearTimeout(timer);
      settled = true;
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
