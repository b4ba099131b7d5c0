import { dueForRetention } from './retention-policy';

describe('dueForRetention', () => {
  const now = new Date('2026-12-07T12:00:00Z');

  it('keeps every study when no retention is set', () => {
    expect(dueForRetention({}, now)).toBeUndefined();
  });

  it('makes due what last changed more than keepDays before now', () => {
    expect(dueForRetention({ keepDays: 30 }, now)).toEqual(new Date('2026-11-07T12:00:00Z'));
    expect(dueForRetention({ keepDays: 1 }, now)).toEqual(new Date('2026-12-06T12:00:00Z'));
  });
});
