import { describe, expect, it } from 'vitest';
import { addMonths, isValidDate } from '../../reconciler/src/validate/dates.ts';

describe('dates', () => {
  it.each([
    ['2026-05-24', 6, '2026-11-24'],
    ['2026-08-31', 6, '2027-02-28'],
    ['2027-08-31', 6, '2028-02-29'],
    ['2026-12-15', 1, '2027-01-15'],
    ['2026-01-31', -2, '2025-11-30'],
  ])('%s + %i months = %s', (from, months, to) => {
    expect(addMonths(from, months)).toBe(to);
  });

  it.each([['2026-02-28', true], ['2028-02-29', true], ['2026-02-29', false], ['2026-02-30', false], ['2026-13-01', false], ['2026-1-01', false], ['', false]])('isValidDate(%s) = %s', (d, ok) => {
    expect(isValidDate(d)).toBe(ok);
  });
});
