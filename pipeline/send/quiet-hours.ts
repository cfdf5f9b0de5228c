// Quiet hours in the customer's own time zone ("21:00"–"08:00" spans midnight).
export interface QuietHours {
  from: string;
  to: string;
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

export function inQuietHours(now: Date, timezone: string, quiet: QuietHours): boolean {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const local =
    Number(parts.find((p) => p.type === 'hour')!.value) * 60 + Number(parts.find((p) => p.type === 'minute')!.value);
  const from = minutes(quiet.from);
  const to = minutes(quiet.to);
  return from <= to ? local >= from && local < to : local >= from || local < to;
}
