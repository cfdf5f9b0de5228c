// The report's statistics against values computed independently with scipy and statsmodels
// (test/reference/statistics.py → statistics.json): small counts where Wald intervals lie and
// Fisher's exact test is used, zero cells, and a large sample.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Z95,
  costPerIncremental,
  differenceTest,
  expectedCells,
  fisherExact,
  holm,
  incrementalResponders,
  lift,
  newcombe,
  relativeLift,
  sampleRatioTest,
  wilson,
  zTest,
} from '../../pipeline/report/statistics.ts';
import { holdoutNeeded, minimumDetectableLift, powerCheck } from '../../pipeline/report/power.ts';

interface PairRef {
  counts: [number, number, number, number];
  wilson1: [number, number];
  wilson2: [number, number];
  newcombe: [number, number];
  relative: number | null;
  relative_ci95: [number, number];
  relative_adjusted: boolean;
  expected_cells: number[];
  z: number;
  z_p: number;
  fisher_p: number;
  test: 'z' | 'fisher';
}
const ref = JSON.parse(readFileSync(new URL('../reference/statistics.json', import.meta.url), 'utf8')) as {
  z95: number;
  pairs: Record<string, PairRef>;
  holm: { p: number[]; adjusted: number[] };
  sample_ratio: { observed: number[]; shares: number[]; chi2: number; p: number }[];
  power: { treated: number; holdout: number; baseline: number; mde: number }[];
  holdout_needed: { total: number; baseline: number; lift: number; n2: number | null }[];
};

const close = (actual: number | null | undefined, expected: number, digits = 9) => {
  expect(actual).not.toBeNull();
  expect(actual).toBeCloseTo(expected, digits);
};
const closeRel = (actual: number, expected: number, rel = 1e-6) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-300);

describe('statistics against scipy/statsmodels', () => {
  it('uses z = Φ⁻¹(0.975)', () => close(Z95, ref.z95, 12));

  for (const [name, r] of Object.entries(ref.pairs)) {
    const [x1, n1, x2, n2] = r.counts;
    describe(`${name} (${x1}/${n1} vs ${x2}/${n2})`, () => {
      it('Wilson intervals of each group', () => {
        const w1 = wilson(x1, n1)!;
        const w2 = wilson(x2, n2)!;
        close(w1[0], r.wilson1[0]);
        close(w1[1], r.wilson1[1]);
        close(w2[0], r.wilson2[0]);
        close(w2[1], r.wilson2[1]);
      });
      it('Newcombe hybrid score interval of the difference', () => {
        const d = newcombe(x1, n1, x2, n2)!;
        close(d[0], r.newcombe[0]);
        close(d[1], r.newcombe[1]);
      });
      it('relative lift with a log risk-ratio interval (½ added to each cell when one is zero)', () => {
        const rel = relativeLift(x1, n1, x2, n2);
        if (r.relative === null) expect(rel.estimate).toBeNull();
        else close(rel.estimate, r.relative);
        expect(rel.adjusted).toBe(r.relative_adjusted);
        close(rel.ci95![0], r.relative_ci95[0], 7);
        closeRel(rel.ci95![1], r.relative_ci95[1]);
      });
      it('pooled z test, Fisher exact test, and the choice between them', () => {
        expectedCells(x1, n1, x2, n2).forEach((e, i) => close(e, r.expected_cells[i]!));
        const z = zTest(x1, n1, x2, n2);
        close(z.z, r.z, 8);
        closeRel(z.p, r.z_p, 1e-6);
        closeRel(fisherExact(x1, n1, x2, n2), r.fisher_p, 1e-6);
        const chosen = differenceTest(x1, n1, x2, n2);
        expect(chosen.test).toBe(r.test);
        expect(lift(x1, n1, x2, n2).test).toBe(r.test);
        closeRel(chosen.p, r.test === 'fisher' ? r.fisher_p : r.z_p, 1e-6);
      });
    });
  }

  it('Fisher is used for a holdout with 0 or 2 responders when an expected cell is below 5', () => {
    expect(ref.pairs.holdout_0_of_40_fisher!.test).toBe('fisher');
    expect(lift(25, 400, 0, 40).test).toBe('fisher');
    expect(lift(20, 300, 2, 40).test).toBe('fisher');
    // Where the normal approximation is poor the two tests disagree by a factor of 100.
    expect(zTest(0, 300, 4, 60).p).toBeLessThan(fisherExact(0, 300, 4, 60) / 50);
  });

  it('Holm adjustment', () => {
    holm(ref.holm.p).forEach((p, i) => close(p, ref.holm.adjusted[i]!, 12));
    expect(holm([0.01, null, 0.04])).toEqual([0.02, null, 0.04]);
  });

  it('χ² sample-ratio test, flagged below p = 0.001', () => {
    for (const c of ref.sample_ratio) {
      const s = sampleRatioTest(c.observed, c.shares)!;
      close(s.chi2, c.chi2, 9);
      closeRel(s.p_value, c.p, 1e-6);
      expect(s.flagged).toBe(c.p < 0.001);
    }
    expect(ref.sample_ratio.some((c) => c.p < 0.001)).toBe(true);
  });

  it('minimum detectable lift at α = 0.05 and 80 % power', () => {
    // statsmodels solves for the effect size with a tolerance near 1e-6 of its own.
    for (const c of ref.power) closeRel(minimumDetectableLift(c.treated, c.holdout, c.baseline)!, c.mde, 1e-5);
  });

  it('the holdout a wanted lift needs', () => {
    for (const c of ref.holdout_needed) expect(holdoutNeeded(c.total, c.baseline, c.lift)).toBe(c.n2);
  });
});

describe('derived figures', () => {
  it('incremental responders are n₁ × the difference and its interval', () => {
    const l = lift(60, 451, 2, 49);
    const inc = incrementalResponders(451, l);
    close(inc.estimate, 451 * (60 / 451 - 2 / 49));
    close(inc.ci95![0], 451 * ref.pairs.issue_example_holdout_2_of_49!.newcombe[0]);
  });

  it('cost per incremental response is unbounded above when the interval reaches zero, and says so', () => {
    const inc = incrementalResponders(451, lift(60, 451, 2, 49));
    const c = costPerIncremental(125_720, inc);
    expect(c.estimate).toBe(Math.round(125_720 / inc.estimate!));
    expect(c.ci95![1]).toBeNull();
    expect(c.ci95![0]).toBe(Math.round(125_720 / inc.ci95![1]));
    expect(c.note).toMatch(/includes zero: no upper bound/);
    const bounded = costPerIncremental(125_720, incrementalResponders(449, lift(56, 449, 0, 51)));
    expect(bounded.ci95![1]).not.toBeNull();
    expect(bounded.note).toBeNull();
    expect(costPerIncremental(1000, incrementalResponders(1000, lift(30, 1000, 60, 1000))).estimate).toBeNull();
  });

  it('the power message for the sample campaign’s holdout of 49', () => {
    const check = powerCheck(451, 49, 0.05, 0.03);
    expect(check.warn).toBe(true);
    expect(check.message).toBe(
      'a holdout of 49 can only detect a lift of about 13 points over a 5 % response rate (α = 0.05, 80 % power); not even an even split of 500 detects 3 points',
    );
    expect(powerCheck(9446, 554, 0.05, 0.03).message).toBe(
      'a holdout of 554 can detect a lift of about 3 points over a 5 % response rate (α = 0.05, 80 % power)',
    );
    expect(powerCheck(98000, 2000, 0.05, 0.01).message).toMatch(/; hold out 4253 of 100000 to detect 1 points$/);
  });
});
