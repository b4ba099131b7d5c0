import type { IncomingMessage } from 'node:http';
import { rm } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { uidProblem } from '@pacslink/dicom';
import { InvalidDicomError, StudyStore, type StoredInstance as StoredInstanceFile } from '@pacslink/store';
import { AuditLog } from '../audit/audit-log';
import type { Actor } from '../auth/actor';
import type { Page } from '../http/dto/page.dto';
import type { StudyDetailResponse, StudySummaryResponse } from './dto/study.response';
import type { FailedPart, StoredPart, UploadResult } from './dto/upload-result.response';
import { StudiesRepository, type RefusedMove } from './studies.repository';
import { StudyError, StudyErrorCode } from './studies.errors';
import {
  UploadAbortedError,
  forEachPart,
  isDicomPart,
  singlePart,
  uploadFraming,
  type UploadPart,
} from './upload-body';
import { UPLOAD_LIMITS, UploadLimitError, checkDeclaredLength, type UploadLimits } from './upload-limits';

/**
 * An upload's answer: per instance, and when the body went past a limit, that refusal (413) with
 * what had been stored before it.
 */
export interface UploadOutcome extends UploadResult {
  refusal?: string;
}

/** A file in place, not yet indexed, and the part it came in. */
interface PendingFile {
  part: number;
  file: StoredInstanceFile;
  /** Its entry in the answer's `stored`, until the index refuses it. */
  stored: StoredPart;
}

const ENTITY_TYPE = 'study';
/** Instances indexed per transaction during an upload. */
const INDEX_BATCH = 100;

/** The study store behind the REST API: uploads streamed to disk, then indexed; listing; deletion. */
@Injectable()
export class StudiesService {
  private readonly logger = new Logger(StudiesService.name);

  constructor(
    private readonly store: StudyStore,
    private readonly repository: StudiesRepository,
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    @Inject(UPLOAD_LIMITS) private readonly limits: UploadLimits,
  ) {}

  /**
   * Stores every instance of an upload, part by part as it streams in; a refused part is answered
   * with its reason while the others are stored. Files are indexed in batches (one transaction and
   * one fsync per directory for up to INDEX_BATCH files), always before the answer. A body past
   * one of the UPLOAD_MAX_* limits stops there: what was stored stays (indexed), the instance being
   * written is not kept, and the answer's `refusal` names the limit. Throws StudyError for a body
   * it cannot read at all.
   */
  async upload(request: IncomingMessage, actor: Actor): Promise<UploadOutcome> {
    const framing = uploadFraming(request.headers['content-type']);
    const result: UploadOutcome = { stored: [], failed: [] };
    const unindexed: PendingFile[] = [];
    const storePart = async (part: UploadPart) => {
      const outcome = await this.storePart(part);
      if ('reason' in outcome) {
        result.failed.push(outcome);
        return;
      }
      const stored = storedPart(outcome);
      result.stored.push(stored);
      unindexed.push({ part: part.number, file: outcome, stored });
      if (unindexed.length >= INDEX_BATCH) await this.index(unindexed.splice(0), result);
    };
    try {
      checkDeclaredLength(request.headers['content-length'], framing.kind === 'single', this.limits);
    } catch (error) {
      if (!(error instanceof UploadLimitError)) throw error;
      this.logger.warn({ msg: 'study upload refused by its Content-Length', limit: error.message });
      return { ...result, refusal: `${error.message}; nothing of the body was read` };
    }
    try {
      if (framing.kind === 'single') {
        await singlePart(request, this.limits, storePart);
      } else {
        const parts = await forEachPart(request, framing.boundary, this.limits, storePart);
        if (parts === 0) {
          throw new StudyError(StudyErrorCode.NoParts, 'the multipart body holds no part');
        }
      }
    } catch (error) {
      if (error instanceof UploadLimitError) {
        const stored = result.stored.length;
        this.logger.warn({ msg: 'study upload stopped at a limit', limit: error.message, stored });
        const kept =
          stored === 0
            ? 'no instance was stored'
            : `the ${stored} instances received whole before it were stored`;
        result.refusal = `${error.message}; ${kept}, the rest of the body was not read`;
        return result;
      }
      if (!(error instanceof UploadAbortedError)) throw error;
      this.logger.warn({
        msg: 'study upload cut short by the client',
        reason: error.message,
        stored: result.stored.length,
      });
      throw new StudyError(
        StudyErrorCode.UploadAborted,
        `${error.message}; the ${result.stored.length} instances received whole were stored`,
      );
    } finally {
      await this.index(unindexed.splice(0), result);
      await this.recordUpload(result, actor);
    }
    this.logger.log({ msg: 'study upload', stored: result.stored.length, failed: result.failed.length });
    return result;
  }

  /** The file, in place but not yet indexed, or why the part was refused. */
  private async storePart(part: UploadPart): Promise<StoredInstanceFile | FailedPart> {
    if (!isDicomPart(part.contentType)) {
      part.body.resume();
      return {
        part: part.number,
        reason:
          part.contentType === undefined
            ? 'the part has no Content-Type; expected application/dicom'
            : `the part's Content-Type is "${part.contentType}"; expected application/dicom`,
      };
    }
    try {
      return await this.store.write(part.body, { syncDirectory: false });
    } catch (error) {
      if (!(error instanceof InvalidDicomError)) throw error;
      part.body.resume();
      const { sopInstanceUid } = error;
      return {
        part: part.number,
        ...(sopInstanceUid !== undefined ? { sopInstanceUid } : {}),
        reason: error.message,
      };
    }
  }

  /**
   * Makes the files' names durable, then indexes them; no file stays without its index row. A file
   * the index refused (its instance would leave a file an active transfer reads) is removed and its
   * part moves from `stored` to `failed`, naming the transfer.
   */
  private async index(files: PendingFile[], result: UploadResult): Promise<void> {
    if (files.length === 0) return;
    const paths = new Set(files.map(({ file }) => file.path));
    try {
      await this.store.syncDirectories(paths);
      const { stalePaths, refused } = await this.repository.indexInstances(files.map(({ file }) => file));
      // A path indexed again later in the same batch is current, not stale.
      for (const path of stalePaths.filter((stale) => !paths.has(stale))) {
        await rm(this.store.absolutePath(path), { force: true });
      }
      for (const move of refused) {
        // The new copy was never indexed; the transfer's file stays where it was.
        await rm(this.store.absolutePath(move.file.path), { force: true });
        const pending = files.find(({ file }) => file === move.file);
        if (pending === undefined) continue;
        result.stored.splice(result.stored.indexOf(pending.stored), 1);
        result.failed.push({
          part: pending.part,
          sopInstanceUid: move.file.sopInstanceUid,
          transferId: move.transferId,
          reason: moveRefusal(move),
        });
        this.logger.warn({
          msg: 'instance not moved: a transfer holds its file',
          sopInstanceUid: move.file.sopInstanceUid,
          transferId: move.transferId,
        });
      }
    } catch (error) {
      for (const path of paths) await rm(this.store.absolutePath(path), { force: true });
      throw error;
    }
  }

  /** One audit entry per upload, without patient data: UIDs, counts and the reasons of refusals. */
  private async recordUpload(result: UploadOutcome, actor: Actor): Promise<void> {
    const { refusal } = result;
    if (result.stored.length === 0 && result.failed.length === 0 && refusal === undefined) return;
    const studies = [...new Set(result.stored.map((instance) => instance.studyInstanceUid))];
    await this.dataSource.transaction((manager) =>
      this.audit.record(manager, actor, {
        action: 'study.uploaded',
        entityType: ENTITY_TYPE,
        entityId: studies.length === 1 ? studies[0] : undefined,
        change: {
          studyInstanceUids: studies,
          instancesStored: result.stored.length,
          failed: result.failed,
          ...(refusal !== undefined ? { refusal } : {}),
        },
      }),
    );
  }

  async list(limit: number, offset: number): Promise<Page<StudySummaryResponse>> {
    const { rows, total } = await this.repository.list(limit, offset);
    return { items: rows, total, limit, offset };
  }

  async get(studyInstanceUid: string): Promise<StudyDetailResponse> {
    const found = await this.repository.find(checkedUid(studyInstanceUid));
    if (found === undefined) throw notFound(studyInstanceUid);
    return { ...found.study, series: found.series };
  }

  /**
   * Removes the rows (with their audit entry), then the files. With `lastChangedBefore`, only a
   * study no instance has reached since (else: not found), judged under the rows' locks.
   */
  async remove(studyInstanceUid: string, actor: Actor, lastChangedBefore?: Date): Promise<void> {
    checkedUid(studyInstanceUid);
    await this.dataSource.transaction(async (manager) => {
      const deleted = await this.repository.delete(manager, studyInstanceUid, lastChangedBefore);
      if (deleted === undefined) throw notFound(studyInstanceUid);
      if (deleted.activeTransfer) {
        throw new StudyError(
          StudyErrorCode.TransferActive,
          `study ${studyInstanceUid} is being transferred; cancel the transfer or wait for it to end`,
        );
      }
      await this.audit.record(manager, actor, {
        action: 'study.deleted',
        entityType: ENTITY_TYPE,
        entityId: studyInstanceUid,
        change: { instanceCount: deleted.instanceCount, sizeBytes: deleted.sizeBytes },
      });
    });
    await this.store.removeStudy(studyInstanceUid);
  }
}

function checkedUid(studyInstanceUid: string): string {
  const problem = uidProblem(studyInstanceUid);
  if (problem !== undefined) {
    throw new StudyError(
      StudyErrorCode.InvalidUid,
      `studyInstanceUid is not a valid UID (PS3.5 9.1): it ${problem}`,
    );
  }
  return studyInstanceUid;
}

function notFound(studyInstanceUid: string): StudyError {
  return new StudyError(StudyErrorCode.NotFound, `the study store holds no study ${studyInstanceUid}`);
}

function moveRefusal({ file, studyInstanceUid, transferId, status }: RefusedMove): string {
  const destination =
    file.studyInstanceUid === studyInstanceUid
      ? `series ${file.seriesInstanceUid}`
      : `study ${file.studyInstanceUid}`;
  return (
    `instance ${file.sopInstanceUid} of study ${studyInstanceUid} is being exported by transfer ` +
    `${transferId} (${status}), which reads its file: it cannot move to ${destination} until that ` +
    `transfer ends; wait for it or cancel it, then upload the instance again`
  );
}

function storedPart(file: StoredInstanceFile): StoredPart {
  const { studyInstanceUid, seriesInstanceUid, sopInstanceUid, sopClassUid } = file;
  return { studyInstanceUid, seriesInstanceUid, sopInstanceUid, sopClassUid };
}
