import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { multipartRelated } from '@pacslink/testing';
import type { ServiceProcess } from './service-process';

export interface TransferView {
  id: string;
  status: string;
  attempts: number;
  error?: string;
  progress: { total: number; completed: number; failed: number; warning: number };
}

/** How long a call keeps trying the replicas (one may be restarting, or all may be down). */
const CALL_PATIENCE_MS = 180_000;

/**
 * config-service's REST API as a client behind a Kubernetes Service sees it: each call goes to a
 * live replica, and moves on to the next when one does not answer or answers 502-504 (a replica
 * draining or restarting). Only calls that are safe to repeat are repeated: GETs, and POSTs with an
 * Idempotency-Key.
 */
export class SuiteApi {
  constructor(
    private readonly replicas: () => readonly ServiceProcess[],
    private readonly apiKey: string,
  ) {}

  async call(
    method: string,
    path: string,
    body?: { json: unknown } | { raw: Buffer; contentType: string },
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const deadline = Date.now() + CALL_PATIENCE_MS;
    let last = 'no live config-service replica';
    for (let turn = 0; ; turn++) {
      const live = this.replicas().filter((replica) => replica.alive);
      const replica = live[turn % Math.max(1, live.length)];
      if (replica) {
        try {
          const response = await fetch(`${replica.baseUrl}/api/v1${path}`, {
            method,
            headers: {
              authorization: `Bearer ${this.apiKey}`,
              ...(body === undefined
                ? {}
                : { 'content-type': 'json' in body ? 'application/json' : body.contentType }),
              ...headers,
            },
            body: body === undefined ? undefined : 'json' in body ? JSON.stringify(body.json) : body.raw,
            signal: AbortSignal.timeout(60_000),
          });
          if (![502, 503, 504].includes(response.status)) return response;
          last = `${replica.name} answered ${response.status}: ${await response.text()}`;
        } catch (error) {
          last = `${replica.name}: ${(error as Error).message}`;
        }
      }
      if (Date.now() > deadline) throw new Error(`${method} /api/v1${path}: no replica answered (${last})`);
      await sleep(live.length > 1 ? 50 : 500);
    }
  }

  private async expectStatus<T>(response: Response, status: number, what: string): Promise<T> {
    const text = await response.text();
    if (response.status !== status) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async allowTransfer(): Promise<void> {
    const response = await this.call('PUT', '/settings', {
      json: { allowTransfer: true, defaultCallingAeTitle: 'PACSLINK' },
    });
    await this.expectStatus(response, 200, 'PUT /settings');
  }

  async createPacsConfig(body: Record<string, unknown>): Promise<string> {
    const response = await this.call('POST', '/pacs-configs', { json: body });
    return (await this.expectStatus<{ id: string }>(response, 201, `POST /pacs-configs ${String(body.name)}`))
      .id;
  }

  /** One study into the store (multipart/related), as a modality's upload would. */
  async upload(files: readonly string[]): Promise<void> {
    const boundary = `faults-${randomUUID()}`;
    const raw = multipartRelated(await Promise.all(files.map((file) => readFile(file))), boundary);
    const response = await this.call('POST', '/studies', {
      raw,
      contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    });
    await this.expectStatus(response, 200, 'POST /studies');
  }

  /** POST /transfers with an Idempotency-Key, so that a call repeated on another replica makes one transfer. */
  async startExport(pacsConfigId: string, studyInstanceUid: string): Promise<string> {
    const response = await this.call(
      'POST',
      '/transfers',
      { json: { direction: 'export', pacsConfigId, studyInstanceUid } },
      { 'idempotency-key': randomUUID() },
    );
    return (await this.expectStatus<{ id: string }>(response, 202, 'POST /transfers')).id;
  }

  async transfer(id: string): Promise<TransferView> {
    return this.expectStatus<TransferView>(
      await this.call('GET', `/transfers/${id}`),
      200,
      `GET /transfers/${id}`,
    );
  }
}
