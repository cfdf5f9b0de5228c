// Times as managers write them in a sheet or a page's date field, read as Beijing time unless
// they carry an offset; impossible dates are refused rather than rolled over.
import { describe, expect, it } from 'vitest';
import { parseDateTime } from '../../pipeline/calls/import-outcomes.ts';

describe('parseDateTime', () => {
  it('reads dates and times with or without seconds, dashes or slashes, local or with an offset', () => {
    expect(parseDateTime('2026-12-04 10:00')?.toISOString()).toBe('2026-12-04T02:00:00.000Z');
    expect(parseDateTime('2026/12/4 9:05')?.toISOString()).toBe('2026-12-04T01:05:00.000Z');
    expect(parseDateTime('2026-12-04T10:00')?.toISOString()).toBe('2026-12-04T02:00:00.000Z');
    expect(parseDateTime('2026-12-04 10:00:30+01:00')?.toISOString()).toBe('2026-12-04T09:00:30.000Z');
    // A date alone is midnight; read with offset Z it is the calendar date itself.
    expect(parseDateTime('2026-12-05', 'Z')?.toISOString()).toBe('2026-12-05T00:00:00.000Z');
  });

  it('refuses what is not a date', () => {
    expect(parseDateTime('2026-02-30')).toBeNull();
    expect(parseDateTime('2026-12-04 25:00')).toBeNull();
    expect(parseDateTime('明天下午')).toBeNull();
    expect(parseDateTime('')).toBeNull();
  });
});
