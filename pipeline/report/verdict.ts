// The report's verdict in one plain sentence, e.g. "The campaign lifted the response by 7.2 points
// (−2.8 to +11.6): not significant (p = 0.068, Fisher's exact test); the holdout of 49 was too
// small to tell."
import type { CampaignReport } from './report-shape.ts';

const pts = (x: number) => `${x >= 0 ? '' : '−'}${Math.abs(x * 100).toFixed(1)}`;
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
const pValue = (p: number) => (p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

export function verdict(r: CampaignReport): string {
  const l = r.lift;
  if (r.holdout.n === 0) return 'There is no holdout, so the lift cannot be measured; the rates below are descriptive.';
  if (r.treatment.n === 0) return 'Nobody was in the treated group.';
  if (l.absolute === null || !l.absolute_ci95 || l.p_value === null) return 'Not enough data to compare the groups.';
  const test = l.test === 'fisher' ? "Fisher's exact test" : 'two-proportion z test';
  const moved = l.absolute >= 0 ? 'lifted' : 'lowered';
  const what = `The campaign ${moved} the response rate by ${pts(Math.abs(l.absolute))} points (${pts(l.absolute_ci95[0])} to ${signed(l.absolute_ci95[1])})`;
  const significant = l.p_value < 0.05;
  let tail: string;
  if (significant)
    tail = `: significant (${pValue(l.p_value)}, ${test})${
      r.incremental_responders.estimate !== null && l.absolute > 0
        ? `, about ${Math.round(r.incremental_responders.estimate)} responders it caused`
        : ''
    }`;
  else
    tail = `: not significant (${pValue(l.p_value)}, ${test})${
      r.checks.power.warn ? `; the holdout of ${r.holdout.n} was too small to tell` : ''
    }`;
  const open = r.provisional ? ` Provisional: ${r.provisional_reason}.` : '';
  return `${what}${tail}.${open}`;
}
