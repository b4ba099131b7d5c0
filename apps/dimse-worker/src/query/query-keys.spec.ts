import { QUERY_RETURN_KEYS, queryFilterKeywords, type QueryFilterLevel } from '@pacslink/dicom';
import { queryKeywords, type QueryLevel } from '@pacslink/dimse';

// config-service checks filters against @pacslink/dicom's allowlist; every key it lets through
// (and every return key it asks for) must be one the DIMSE client can put in a C-FIND identifier.
describe('the API query allowlist fits the C-FIND identifier builder', () => {
  const levels: [QueryFilterLevel, QueryLevel][] = [
    ['study', 'STUDY'],
    ['series', 'SERIES'],
    ['instance', 'IMAGE'],
  ];

  it.each(levels)('%s-level filters and return keys are C-FIND keys at %s', (level, dimseLevel) => {
    const known = new Set(queryKeywords(dimseLevel));
    expect(queryFilterKeywords(level).filter((keyword) => !known.has(keyword))).toEqual([]);
    expect(QUERY_RETURN_KEYS[level].filter((keyword) => !known.has(keyword))).toEqual([]);
  });
});
