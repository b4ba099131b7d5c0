import { Injectable } from '@nestjs/common';
import type { StoredInstance as StoredInstanceFile } from '@pacslink/store';

/** Instances a C-MOVE of ours brought through the Storage SCP, indexed. */
export interface RetrievedInstances {
  /** The PACS configuration whose association delivered them. */
  pacsConfigId: string;
  files: readonly StoredInstanceFile[];
}

export type RetrievedInstancesListener = (retrieved: RetrievedInstances) => Promise<void>;

/**
 * An in-process event from the studies feature to whoever retrieved the instances (the transfers
 * feature's imports), without the studies module depending on transfers. Publishing awaits every
 * listener: the Storage SCP's report is acknowledged only once the arrivals are recorded.
 */
@Injectable()
export class RetrievedInstancesHub {
  private readonly listeners: RetrievedInstancesListener[] = [];

  listen(listener: RetrievedInstancesListener): void {
    this.listeners.push(listener);
  }

  async publish(retrieved: RetrievedInstances): Promise<void> {
    if (retrieved.files.length === 0) return;
    for (const listener of this.listeners) await listener(retrieved);
  }
}
