import { ExportBatchCommands, type DicomwebExportBatchData } from '@pacslink/contracts';
import { dicomwebTarget } from '../worker-targets';
import { commandOf, type PacsProtocol } from './pacs-protocol';

/**
 * How many batches of one DICOMweb PACS run at once. STOW-RS has no association limit to
 * respect; with requests in flight side by side the server parses one while the next arrives
 * (measured against Orthanc: 1 → 0.67×, 2 → 0.78×, 4 → 0.88× curl on 200 × 0.5 MB;
 * docs/performance/export-benchmark.md).
 */
export const DICOMWEB_PARALLEL_BATCHES = 4;

/** A URL as an audit entry or a log may name it: no credentials, no query (it may carry state). */
function withoutCredentials(url: string | null): string | null {
  if (url === null) return null;
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return null;
  }
}

/** DICOMweb (PS3.18): STOW-RS out, QIDO-RS (and WADO-RS) in. */
export const DicomwebProtocol: PacsProtocol = {
  type: 'dicomweb',
  worker: 'dicomweb-worker',
  capabilitySwitches: { import: 'qidoRs', export: 'stowRs' },
  exportMethod: 'STOW-RS',
  batchSlots: () => DICOMWEB_PARALLEL_BATCHES,
  exportBatchCommand(row, batch, { cipher, studyInstanceUid }) {
    const data: DicomwebExportBatchData = {
      ...batch,
      target: dicomwebTarget(row, cipher),
      multipart: row.stowMultipartRelated ?? true,
      studyInstanceUid,
    };
    return commandOf(ExportBatchCommands.Dicomweb, data);
  },
  destination: (row) => ({
    url: withoutCredentials(row.url),
    ...(row.authTokenUrl === null ? {} : { tokenUrl: withoutCredentials(row.authTokenUrl) }),
  }),
};
