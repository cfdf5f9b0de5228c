// How the report's numbers are written for people (terminal, CSV headers aside, HTML): one place,
// so the page and the terminal say the same thing.
import type { Interval } from './statistics.ts';
import type { CampaignReport } from './report-shape.ts';

const MINUS = '−';
const sign = (x: number) => (x < 0 ? MINUS : '+');

/** 0.13303 → "13.30%". */
export const percent = (rate: number | null | undefined, digits = 2): string =>
  rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(digits)}%`.replace('-', MINUS);

/** An absolute difference of rates in percentage points: 0.0922 → "+9.22 pts". */
export const points = (diff: number | null | undefined): string =>
  diff === null || diff === undefined ? '–' : `${sign(diff)}${Math.abs(diff * 100).toFixed(2)} pts`;

export const range = (ci: Interval | null | undefined, f: (x: number) => string): string =>
  ci ? `${f(ci[0])} to ${f(ci[1])}` : '–';

export const signedPercent = (x: number | null | undefined): string =>
  x === null || x === undefined ? '–' : `${sign(x)}${Math.abs(x * 100).toFixed(1)}%`;

export const pValue = (p: number | null | undefined): string =>
  p === null || p === undefined ? '–' : p < 0.0001 ? '< 0.0001' : p.toFixed(4);

export const count = (x: number | null | undefined, digits = 0): string =>
  x === null || x === undefined
    ? '–'
    : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).replace('-', MINUS);

export const money = (x: number | null | undefined, currency: string): string =>
  x === null || x === undefined ? 'unbounded' : `${count(x, 2)} ${currency}`;

export const testName = (t: string | null) => (t === 'fisher' ? "Fisher's exact" : t === 'z' ? 'z test' : '–');

/** "responses imports since the first wave (2): 1,180 of 1,200 rows matched (98.3 %); 40 duplicates, 3 rejected". */
export function matchLine(m: CampaignReport['checks']['match_rate'][number]): string {
  const of = m.kind === 'responses' ? m.matched + m.unmatched : m.read;
  const extra = [
    m.duplicates ? `${count(m.duplicates)} duplicates` : '',
    m.rejected ? `${count(m.rejected)} rejected` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${m.kind} imports since the first wave (${m.imports}): ${count(m.matched)} of ${count(of)} rows matched (${percent(m.rate, 1)})${extra ? `; ${extra}` : ''}`;
}
