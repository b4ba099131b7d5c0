import { checkWorklistFilters } from './worklist-filters';
import { WorklistError, WorklistErrorCode } from './worklist.errors';

function fields(filters: Record<string, unknown>): { field: string; message: string }[] {
  try {
    checkWorklistFilters(filters);
  } catch (error) {
    expect(error).toBeInstanceOf(WorklistError);
    expect((error as WorklistError).code).toBe(WorklistErrorCode.InvalidFilters);
    return [...(error as WorklistError).fields];
  }
  throw new Error('expected invalid filters');
}

describe('checkWorklistFilters', () => {
  it('passes a date, a closed date range, a modality and a station AE title through', () => {
    const filters = {
      scheduledDate: '20260301-20260331',
      modality: 'CT',
      scheduledStationAeTitle: 'CT_ROOM_1',
    };
    expect(checkWorklistFilters(filters)).toEqual(filters);
    expect(checkWorklistFilters({ scheduledDate: '20260315' })).toEqual({ scheduledDate: '20260315' });
    expect(checkWorklistFilters({})).toEqual({});
  });

  it('names every bad filter as filters.<name>, with what is wrong', () => {
    expect(
      fields({
        scheduledDate: '2026-03-15',
        modality: 'ct',
        scheduledStationAeTitle: 'A\\B',
        PatientName: 'DOE*',
      }),
    ).toEqual([
      {
        field: 'filters.scheduledDate',
        message:
          'filters.scheduledDate: "2026-03-15" is not a date (YYYYMMDD) or a date range (YYYYMMDD-YYYYMMDD)',
      },
      {
        field: 'filters.modality',
        message:
          'filters.modality: "ct" is not a modality code (upper-case letters, digits, space and underscore, at most 16 characters)',
      },
      {
        field: 'filters.scheduledStationAeTitle',
        message:
          'filters.scheduledStationAeTitle: "A\\B" is not an AE title (1-16 printable ASCII characters, no backslash)',
      },
      {
        field: 'filters.PatientName',
        message:
          'filters.PatientName: is not a worklist filter; the filters are scheduledDate, modality, scheduledStationAeTitle',
      },
    ]);
  });

  it('refuses dates the calendar does not have, ranges that end before they start, and non-strings', () => {
    expect(fields({ scheduledDate: '20260230' })[0].message).toMatch(/not a calendar date/);
    expect(fields({ scheduledDate: '20260331-20260301' })[0].message).toMatch(/ends before it starts/);
    expect(fields({ modality: 1 })[0].message).toBe('filters.modality: must be a string');
  });
});
