import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceProcess } from './service-process';

/**
 * A browser's `GET /api/v1/events` stream held open on a config-service replica: what a replica
 * must end when it is told to stop. When its stream ends, it reconnects to another replica that is
 * not stopping, as an EventSource does.
 */
export class SseClient {
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;
  /** How many times a stream ended under the client (a replica going away). */
  endings = 0;

  constructor(
    private readonly replicas: () => readonly ServiceProcess[],
    private readonly apiKey: string,
    first: ServiceProcess,
  ) {
    this.loop = this.run(first);
  }

  private async run(first: ServiceProcess): Promise<void> {
    let replica: ServiceProcess | undefined = first;
    while (!this.abort.signal.aborted) {
      if (replica) {
        try {
          const response = await fetch(`${replica.baseUrl}/api/v1/events?types=transfer.*`, {
            headers: { authorization: `Bearer ${this.apiKey}`, accept: 'text/event-stream' },
            signal: this.abort.signal,
          });
          for await (const chunk of response.body ?? []) void chunk;
        } catch {
          // the replica went away, or stop() aborted
        }
        if (this.abort.signal.aborted) return;
        this.endings += 1;
      }
      await sleep(200);
      const candidates = this.replicas().filter((candidate) => candidate.alive && !candidate.stopping);
      replica = candidates[Math.floor(Math.random() * candidates.length)];
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}
