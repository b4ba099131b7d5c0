import type { OrthancPeer } from '@pacslink/testing';

/** The calls of pacslink's REST API the import benchmark adds to the export one's. */
export class ImportApi {
  constructor(private readonly apiUrl: string) {}

  private async call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    expected: readonly number[],
    body?: unknown,
  ): Promise<T> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (!expected.includes(response.status)) {
      throw new Error(`${method} /api/v1${path} answered ${response.status}: ${text.slice(0, 500)}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A DICOMweb configuration of Orthanc offering import (QIDO-RS, WADO-RS), with its Basic auth. */
  async createWadoConfig(orthanc: OrthancPeer): Promise<string> {
    const created = await this.call<{ id: string }>('POST', '/pacs-configs', [201], {
      type: 'dicomweb',
      name: 'bench Orthanc WADO-RS',
      aeTitle: 'BENCHWADO',
      url: orthanc.dicomWebUrl,
      qidoRs: true,
      auth: { method: 'basic', username: orthanc.user, password: orthanc.password },
    });
    return created.id;
  }

  /**
   * A DIMSE configuration of Orthanc offering Query/Retrieve by `retrieveMethod`. The C-MOVE one
   * carries Orthanc's own AE title: Orthanc calls our Storage SCP with it, and the SCP accepts
   * only the AE titles of configured PACS. Orthanc does not check the called AE title.
   */
  async createRetrieveConfig(
    orthanc: OrthancPeer,
    aeTitle: string,
    retrieveMethod: 'get' | 'move',
  ): Promise<string> {
    const created = await this.call<{ id: string }>('POST', '/pacs-configs', [201], {
      type: 'dimse',
      name: `bench Orthanc ${retrieveMethod === 'get' ? 'C-GET' : 'C-MOVE'}`,
      aeTitle,
      host: orthanc.host,
      port: orthanc.port,
      queryRetrieve: true,
      retrieveMethod,
    });
    return created.id;
  }

  async startImport(pacsConfigId: string, studyInstanceUid: string): Promise<string> {
    const transfer = await this.call<{ id: string }>('POST', '/transfers', [202], {
      direction: 'import',
      pacsConfigId,
      studyInstanceUid,
    });
    return transfer.id;
  }

  /** Removes the study from pacslink's store, so that the next import fetches all of it. */
  async forgetStudy(studyInstanceUid: string): Promise<void> {
    await this.call('DELETE', `/studies/${studyInstanceUid}`, [200, 204, 404]);
  }

  async storedInstances(studyInstanceUid: string): Promise<number> {
    const study = await this.call<{ instanceCount?: number }>(
      'GET',
      `/studies/${studyInstanceUid}`,
      [200, 404],
    );
    return study?.instanceCount ?? 0;
  }
}
