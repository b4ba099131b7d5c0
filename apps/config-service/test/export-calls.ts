import { eventually, generateStudy, uploadToStudyStore, type GeneratedStudy } from '@pacslink/testing';
import type { RunningConfigService } from './config-service.harness';

/** GET /transfers/{id}, as the tests of export faults read it. */
export interface TransferBody {
  id: string;
  status: string;
  attempts: number;
  error?: string;
  progress: { total: number; completed: number; failed: number };
}

/** The REST calls of an export, for tests that drive config-service and real workers. */
export class ExportCalls {
  constructor(
    private readonly service: RunningConfigService,
    private readonly workDir: string,
  ) {}

  /** A generated study, uploaded to the study store. */
  async storedStudy(instancesPerSeries: number, instanceBytes?: number): Promise<GeneratedStudy> {
    const study = await generateStudy(this.workDir, { series: 1, instancesPerSeries, instanceBytes });
    const upload = await uploadToStudyStore(this.service.baseUrl, this.service.apiKey, study.files);
    expect(upload.status).toBe(200);
    return study;
  }

  /** POST /transfers; answers the transfer's id. */
  async export(pacsConfigId: string, study: GeneratedStudy): Promise<string> {
    const response = await this.service.call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
    });
    const body = (await response.json()) as TransferBody;
    if (response.status !== 202) throw new Error(`${response.status}: ${JSON.stringify(body)}`);
    return body.id;
  }

  async transfer(id: string): Promise<TransferBody> {
    const response = await this.service.call('GET', `/transfers/${id}`);
    expect(response.status).toBe(200);
    return (await response.json()) as TransferBody;
  }

  /** The transfer once it ended (completed, failed or cancelled). */
  ended(id: string, ms?: number): Promise<TransferBody> {
    return eventually(
      `transfer ${id} to end`,
      async () => {
        const current = await this.transfer(id);
        return ['completed', 'failed', 'cancelled'].includes(current.status) ? current : undefined;
      },
      ms,
    );
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
