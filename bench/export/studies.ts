import { generateStudy } from '@pacslink/testing';
import { multipartRelated, type MultipartBody } from './multipart';
import type { StudyShape } from './options';

export interface BenchStudy {
  shape: StudyShape;
  studyInstanceUid: string;
  /** Holds this study's files and nothing else (storescu scans it). */
  directory: string;
  files: string[];
  totalBytes: number;
  /** A STOW-RS body of every instance, for curl and for the upload into pacslink's store. */
  body: MultipartBody;
}

/** Writes one study of `shape` under `rootDir` with the test lib's generator (non-ASCII names). */
export async function generateBenchStudy(rootDir: string, shape: StudyShape): Promise<BenchStudy> {
  if (shape.instances % shape.seriesSize !== 0) {
    throw new Error(
      `${shape.label}: ${shape.instances} instances do not split into series of ${shape.seriesSize}`,
    );
  }
  const study = await generateStudy(rootDir, {
    series: shape.instances / shape.seriesSize,
    instancesPerSeries: shape.seriesSize,
    instanceBytes: shape.instanceBytes,
    studyDescription: `pacslink export benchmark ${shape.label}`,
  });
  return {
    shape,
    studyInstanceUid: study.studyInstanceUid,
    directory: study.directory,
    files: study.files,
    totalBytes: study.totalBytes,
    body: multipartRelated(study.files),
  };
}
