import type { ProposedPresentationContext } from '../upper-layer/pdu';

/** PS3.8 9.3.2.2: presentation context IDs are odd numbers 1..255, so at most 128 per association. */
export const MAX_PRESENTATION_CONTEXTS = 128;

export interface StorePair {
  sopClassUid: string;
  transferSyntaxUid: string;
}

function pairKey(pair: StorePair): string {
  return `${pair.sopClassUid}|${pair.transferSyntaxUid}`;
}

/**
 * Groups instances (by index) into associations: each distinct (SOP class, transfer syntax) pair
 * gets its own context, and a group never needs more than 128. Pairs are taken in order of first
 * appearance; an instance goes to the group holding its pair, so input order is kept within a group.
 * Nearly every export fits one group (one association).
 */
export function groupByContexts(pairs: readonly StorePair[], max = MAX_PRESENTATION_CONTEXTS): number[][] {
  const groupOfPair = new Map<string, number>();
  const groups: number[][] = [];
  pairs.forEach((pair, index) => {
    const key = pairKey(pair);
    let group = groupOfPair.get(key);
    if (group === undefined) {
      group = Math.floor(groupOfPair.size / max);
      groupOfPair.set(key, group);
    }
    (groups[group] ??= []).push(index);
  });
  return groups;
}

/** One context per pair, each proposing exactly the stored transfer syntax: the bytes go as stored. */
export function proposeContexts(pairs: readonly StorePair[]): {
  contexts: ProposedPresentationContext[];
  contextIdOf: (pair: StorePair) => number;
} {
  const ids = new Map<string, number>();
  const contexts: ProposedPresentationContext[] = [];
  for (const pair of pairs) {
    const key = pairKey(pair);
    if (ids.has(key)) continue;
    const id = contexts.length * 2 + 1;
    if (id > 255)
      throw new Error(`more than ${MAX_PRESENTATION_CONTEXTS} presentation contexts in one association`);
    ids.set(key, id);
    contexts.push({ id, abstractSyntaxUid: pair.sopClassUid, transferSyntaxUids: [pair.transferSyntaxUid] });
  }
  return {
    contexts,
    contextIdOf: (pair) => {
      const id = ids.get(pairKey(pair));
      if (id === undefined) throw new Error(`no presentation context was proposed for ${pairKey(pair)}`);
      return id;
    },
  };
}
