import type { ImportBatchData } from '@pacslink/contracts';

/** One WADO-RS GET of an import batch and the instances its answer must hold. */
export interface RetrieveRequest {
  seriesInstanceUid: string;
  /** Set: `…/series/{series}/instances/{uid}`; unset: the whole series. */
  sopInstanceUid?: string;
  expected: readonly string[];
}

/**
 * The batch's GETs: one per series it holds whole (`wholeSeries`), one per instance for the rest
 * (a series cut over batches, a retry of what is missing): a series GET would bring the instances
 * of other batches across the wire too, only to be dropped. Series first, in batch order.
 */
export function retrieveRequests(
  batch: Pick<ImportBatchData, 'instances' | 'wholeSeries'>,
): RetrieveRequest[] {
  const whole = new Set(batch.wholeSeries);
  const bySeries = new Map<string, string[]>();
  const single: RetrieveRequest[] = [];
  for (const { sopInstanceUid, seriesInstanceUid } of batch.instances) {
    if (whole.has(seriesInstanceUid)) {
      const expected = bySeries.get(seriesInstanceUid) ?? [];
      expected.push(sopInstanceUid);
      bySeries.set(seriesInstanceUid, expected);
    } else {
      single.push({ seriesInstanceUid, sopInstanceUid, expected: [sopInstanceUid] });
    }
  }
  return [
    ...[...bySeries].map(([seriesInstanceUid, expected]) => ({ seriesInstanceUid, expected })),
    ...single,
  ];
}
