import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { MessageConsumer } from '@pacslink/messaging';

export interface ShutdownOptions {
  /** SHUTDOWN_DRAIN_MS: from the signal to the exit, at most. */
  drainMs: number;
}

export const SHUTDOWN_OPTIONS = Symbol('SHUTDOWN_OPTIONS');

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * How a service stops (docs/decisions/0006-transfers.md, "Shutdown and reporting"). At the first
 * SIGTERM or SIGINT, before anything closes: readiness answers 503 (the load balancer stops sending
 * requests), the consumers take no more deliveries and their handlers' signal aborts (a worker ends
 * its batch at the next instance), and `signal` aborts for the rest (event streams end). Then the
 * application closes: handlers finish and ack, publishers and connections close. When that takes
 * longer than the drain time the process exits anyway: what it had not acked goes back to the
 * queue, and the batches' leases cover the rest.
 */
@Injectable()
export class ServiceShutdown implements OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(ServiceShutdown.name);
  private readonly controller = new AbortController();
  private stopListening?: () => void;

  constructor(
    private readonly consumer: MessageConsumer,
    @Inject(SHUTDOWN_OPTIONS) private readonly options: ShutdownOptions,
  ) {}

  /** True from the first signal (or close) on. */
  get draining(): boolean {
    return this.controller.signal.aborted;
  }

  /** Aborted when the service starts to stop: long-lived work (event streams) ends now. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Unready, no more deliveries, `signal` aborted; idempotent. */
  begin(): void {
    if (this.draining) return;
    this.controller.abort();
    void this.consumer.stopConsuming(this.options.drainMs);
  }

  /**
   * Stops the process at SIGTERM or SIGINT: begin(), then `close` (the application's hooks), then
   * exit 0; exit 1, logged, when the drain time runs out first.
   */
  listen(close: () => Promise<void>): void {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        this.logger.warn({ msg: 'already shutting down', signal });
        return;
      }
      stopping = true;
      const started = Date.now();
      const { drainMs } = this.options;
      this.logger.log({ msg: 'shutting down', signal, drainMs });
      this.begin();
      const deadline = setTimeout(() => {
        this.logger.error({
          msg: 'drain time ran out: exiting with work unfinished; unacked deliveries go back to the queue and leases take over',
          drainMs,
        });
        process.exit(1);
      }, drainMs);
      close().then(
        () => {
          clearTimeout(deadline);
          this.logger.log({ msg: 'stopped', elapsedMs: Date.now() - started });
          process.exit(0);
        },
        (error: unknown) => {
          this.logger.error({
            msg: 'shutdown failed',
            reason: error instanceof Error ? error.message : String(error),
          });
          process.exit(1);
        },
      );
    };
    for (const signal of SIGNALS) process.on(signal, onSignal);
    this.stopListening = () => SIGNALS.forEach((signal) => process.removeListener(signal, onSignal));
  }

  /** A close without a signal (tests, embedding) drains the same way. */
  onModuleDestroy(): void {
    this.begin();
  }

  onApplicationShutdown(): void {
    this.stopListening?.();
  }
}
