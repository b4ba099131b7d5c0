import {
  ConnectionTestRequests,
  ExportBatchCommands,
  ImportBatchCommands,
  QueryRequests,
  type DicomwebConnectionTestData,
  type DicomwebExportBatchData,
  type DicomwebImportBatchData,
  type DicomwebImportPlanData,
  type DicomwebQueryData,
} from '@pacslink/contracts';
import { dicomwebTarget } from '../worker-targets';
import { commandOf, type PacsProtocol } from './pacs-protocol';

/**
 * How many batches of one DICOMweb PACS run at once. STOW-RS has no association limit to
 * respect; with requests in flight side by side the server parses one while the next arrives
 * (measured against Orthanc: 1 → 0.67×, 2 → 0.78×, 4 → 0.88× curl on 200 × 0.5 MB;
 * docs/performance/export-benchmark.md).
 */
export const DICOMWEB_PARALLEL_BATCHES = 4;

/** PS3.18 10.6: the QIDO-RS resource of each query level. */
const QIDO_RESOURCE = { study: 'studies', series: 'series', instance: 'instances' } as const;

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
  importMethod: () => 'WADO-RS',
  importPlanCommand(row, plan, { cipher }) {
    const data: DicomwebImportPlanData = { ...plan, target: dicomwebTarget(row, cipher) };
    return commandOf(ImportBatchCommands.DicomwebPlan, data);
  },
  importBatchCommand(row, batch, { cipher }) {
    const data: DicomwebImportBatchData = { ...batch, target: dicomwebTarget(row, cipher) };
    return commandOf(ImportBatchCommands.Dicomweb, data);
  },
  queryCommand(row, { level, keys, returnKeys, limit, offset }, { cipher }) {
    const data: DicomwebQueryData = {
      ...dicomwebTarget(row, cipher),
      level: QIDO_RESOURCE[level],
      filters: keys,
      includefield: returnKeys,
      limit,
      offset,
    };
    return commandOf(QueryRequests.Dicomweb, data);
  },
  // The calling AE title is DIMSE's: a DICOMweb test neither asks nor checks it.
  connectionTestCommand: (row, { cipher }) => {
    const data: DicomwebConnectionTestData = dicomwebTarget(row, cipher);
    return Promise.resolve(commandOf(ConnectionTestRequests.Dicomweb, data));
  },
  destination: (row) => ({
    url: withoutCredentials(row.url),
    ...(row.authTokenUrl === null ? {} : { tokenUrl: withoutCredentials(row.authTokenUrl) }),
  }),
};
