/** Exchange and queue names: the only messaging names apps share (see docs/decisions/0002-messaging.md). */
export const Exchanges = {
  /** Public topic exchange: `transfer.*`, `worklist.task.*`, `pacs-config.*` (the contract). */
  Events: 'pacslink.events',
  /** Internal topic exchange for commands to the workers. */
  Commands: 'pacslink.commands',
  /** Alternate exchange of `Commands`: anything no queue is bound for lands here, not in the void. */
  Unroutable: 'pacslink.unroutable',
  /** Dead letters of every consumer queue, routed by the queue's own name. */
  DeadLetter: 'pacslink.dead-letter',
} as const;

export interface ConsumerQueue {
  readonly name: string;
  readonly exchange: string;
  readonly bindingKeys: readonly string[];
  /**
   * Bound to the dead-letter exchange with other queues' names as keys: it receives a copy of every
   * message those queues dead-letter (their own <queue>.dead-letter keeps the original for people).
   */
  readonly deadLetterWatch?: boolean;
}

const DIMSE_WORKER_COMMANDS = 'pacslink.dimse-worker.commands';
const DICOMWEB_WORKER_COMMANDS = 'pacslink.dicomweb-worker.commands';

/**
 * One durable quorum queue per consumer type; replicas of a service compete on it. A queue is
 * declared only by the service that consumes it and, for a command queue, by the services that
 * publish into it (MessagingOptions): never a queue nobody reads (see docs/decisions/0002-messaging.md).
 */
export const ConsumerQueues = {
  /** Workers' reports and claims about the work config-service dispatched to them. */
  ConfigServiceReports: {
    name: 'pacslink.config-service.reports',
    exchange: Exchanges.Commands,
    bindingKeys: ['config-service.#'],
  },
  /** What the workers dead-letter: config-service fails the transfer a dead-lettered batch belongs to. */
  ConfigServiceDeadLetters: {
    name: 'pacslink.config-service.dead-letters',
    exchange: Exchanges.DeadLetter,
    bindingKeys: [DIMSE_WORKER_COMMANDS, DICOMWEB_WORKER_COMMANDS],
    deadLetterWatch: true,
  },
  DimseWorkerCommands: {
    name: DIMSE_WORKER_COMMANDS,
    exchange: Exchanges.Commands,
    bindingKeys: ['dimse.#'],
  },
  DicomwebWorkerCommands: {
    name: DICOMWEB_WORKER_COMMANDS,
    exchange: Exchanges.Commands,
    bindingKeys: ['dicomweb.#'],
  },
  MwlMppsCommands: {
    name: 'pacslink.mwl-mpps.commands',
    exchange: Exchanges.Commands,
    bindingKeys: ['mwl.#', 'mpps.#'],
  },
  /** The public events mwl-mpps-service acts on: an export completed completes its study's tasks. */
  MwlMppsEvents: {
    name: 'pacslink.mwl-mpps.events',
    exchange: Exchanges.Events,
    bindingKeys: ['transfer.completed'],
  },
} as const satisfies Record<string, ConsumerQueue>;

export const UnroutableQueue = 'pacslink.unroutable';

export function deadLetterQueueOf(queue: string): string {
  return `${queue}.dead-letter`;
}
