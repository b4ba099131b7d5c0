import { Agent, request } from 'undici';
import type { OrthancPeer } from '@pacslink/testing';
import type { BenchStudy } from './studies';

export interface TransferState {
  id: string;
  status: string;
  progress?: { total: number; completed: number; failed: number; warning: number };
  error?: unknown;
}

// A large upload is answered only once the last part is stored: no headers or body deadline.
const uploads = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

/** The few calls of pacslink's REST API (contract: /work/shared/CONTRACT.md) the benchmark makes. */
export class PacslinkApi {
  constructor(private readonly apiUrl: string) {}

  private async call<T>(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    expected: number | readonly number[],
    body?: unknown,
  ): Promise<T> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    const accepted = typeof expected === 'number' ? [expected] : expected;
    if (!accepted.includes(response.status)) {
      throw new Error(
        `${method} /api/v1${path} answered ${response.status} (expected ${accepted.join(' or ')}): ${text.slice(0, 500)}`,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** PUT /settings replaces both fields: keep the default calling AE title as it is. */
  async allowTransfer(): Promise<void> {
    const settings = await this.call<{ defaultCallingAeTitle: string }>('GET', '/settings', 200);
    await this.call('PUT', '/settings', 200, {
      allowTransfer: true,
      defaultCallingAeTitle: settings.defaultCallingAeTitle,
    });
  }

  /**
   * A DIMSE configuration of the benchmark's Orthanc offering export. AE titles are unique per
   * configuration; Orthanc does not check the called AE title (DicomCheckCalledAet false).
   */
  async createDimseConfig(orthanc: OrthancPeer, aeTitle: string, maxAssociations: number): Promise<string> {
    const created = await this.call<{ id: string }>('POST', '/pacs-configs', 201, {
      type: 'dimse',
      name: `bench Orthanc C-STORE x${maxAssociations}`,
      aeTitle,
      host: orthanc.host,
      port: orthanc.port,
      cStore: true,
      maxAssociations,
    });
    return created.id;
  }

  async createDicomwebConfig(orthanc: OrthancPeer, aeTitle: string): Promise<string> {
    const created = await this.call<{ id: string }>('POST', '/pacs-configs', 201, {
      type: 'dicomweb',
      name: 'bench Orthanc STOW-RS',
      aeTitle,
      url: orthanc.dicomWebUrl,
      stowRs: true,
      stowMultipartRelated: true,
      auth: { method: 'basic', username: orthanc.user, password: orthanc.password },
    });
    return created.id;
  }

  /** POST /studies with the study as one multipart/related body, streamed from its files. */
  async uploadStudy(study: BenchStudy): Promise<void> {
    const response = await request(`${this.apiUrl}/studies`, {
      method: 'POST',
      headers: { 'content-type': study.body.contentType },
      body: study.body.stream(),
      dispatcher: uploads,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      throw new Error(
        `POST /api/v1/studies (${study.shape.label}) answered ${response.statusCode}: ${text.slice(0, 500)}`,
      );
    }
  }

  async deleteStudy(studyInstanceUid: string): Promise<void> {
    await this.call('DELETE', `/studies/${studyInstanceUid}`, [200, 204]);
  }

  /** POST /transfers: the export is queued (202); resolves to the transfer's id. */
  async startExport(pacsConfigId: string, studyInstanceUid: string): Promise<string> {
    const transfer = await this.call<{ id: string }>('POST', '/transfers', 202, {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid,
    });
    return transfer.id;
  }

  transfer(id: string): Promise<TransferState> {
    return this.call<TransferState>('GET', `/transfers/${id}`, 200);
  }
}
