// The names of a recurring campaign's runs: the schedule's name and the date (and time, for a
// schedule that fires more than once a day) in the schedule's time zone.

/** How much of its time a run's name carries: a schedule that fires at most once a day needs only the date. */
export type RunSuffix = 'date' | 'minute' | 'second';

const SUFFIX_PATTERN: Record<RunSuffix, string> = {
  date: 'YYYYMMDD',
  minute: 'YYYYMMDD-HHMM',
  second: 'YYYYMMDD-HHMMSS',
};

/** What a run of schedule `name` is called, e.g. birthday-greetings-YYYYMMDD. */
export const runNamePattern = (name: string, suffix: RunSuffix) => `${name}-${SUFFIX_PATTERN[suffix]}`;

/** The calendar fields of `at` in `timeZone`. */
export function zonedParts(at: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)!.value;
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

export function runSlug(name: string, at: Date, suffix: RunSuffix, timeZone: string): string {
  const p = zonedParts(at, timeZone);
  const date = `${name}-${p.year}${p.month}${p.day}`;
  if (suffix === 'date') return date;
  return suffix === 'minute' ? `${date}-${p.hour}${p.minute}` : `${date}-${p.hour}${p.minute}${p.second}`;
}
