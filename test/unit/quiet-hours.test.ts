import { describe, expect, it } from 'vitest';
import { inQuietHours } from '../../pipeline/send/quiet-hours.ts';

describe('quiet hours', () => {
  const night = { from: '21:00', to: '08:00' };
  it("apply in the customer's own time zone, across midnight", () => {
    const t = new Date('2026-12-01T14:30:00Z'); // 22:30 in Shanghai, 14:30 in London, 09:30 in New York
    expect(inQuietHours(t, 'Asia/Shanghai', night)).toBe(true);
    expect(inQuietHours(t, 'Europe/London', night)).toBe(false);
    expect(inQuietHours(t, 'America/New_York', night)).toBe(false);
    expect(inQuietHours(new Date('2026-12-01T23:59:00Z'), 'Asia/Shanghai', night)).toBe(true); // 07:59 local
    expect(inQuietHours(new Date('2026-12-02T00:00:00Z'), 'Asia/Shanghai', night)).toBe(false); // 08:00 local
  });
  it('also work for a window within one day', () => {
    expect(inQuietHours(new Date('2026-12-01T04:30:00Z'), 'Asia/Shanghai', { from: '12:00', to: '14:00' })).toBe(true);
    expect(inQuietHours(new Date('2026-12-01T06:00:00Z'), 'Asia/Shanghai', { from: '12:00', to: '14:00' })).toBe(false);
  });
});
