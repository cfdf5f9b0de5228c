// The numbers of a campaign report: pure functions of counts, no I/O. Each formula is the textbook
// one named in its comment; test/reference/statistics.py computes the same quantities with
// scipy/statsmodels and the unit tests compare. Rates are fractions (0.1131), never percentages.
import { chiSquareCdf, hypergeometric, phi, phiInverse } from './distributions.ts';

export type Interval = [number, number];

/** z for a two-sided 95 % interval, Φ⁻¹(0.975) ≈ 1.959964. */
export const Z95 = phiInverse(0.975);

/**
 * Wilson score interval for x successes in n: centre (x + z²/2)/(n + z²), half-width
 * z/(n + z²)·√(x(n−x)/n + z²/4). Unlike the Wald interval it stays inside [0, 1] and keeps its
 * coverage when x is 0 or close to n. Null when n = 0.
 */
export function wilson(x: number, n: number, z = Z95): Interval | null {
  if (n <= 0) return null;
  const z2 = z * z;
  const centre = (x + z2 / 2) / (n + z2);
  const half = (z / (n + z2)) * Math.sqrt((x * (n - x)) / n + z2 / 4);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface GroupRate {
  n: number;
  responders: number;
  /** responders / n; null when n = 0. */
  rate: number | null;
  ci95: Interval | null;
}

export function groupRate(responders: number, n: number): GroupRate {
  return { n, responders, rate: n > 0 ? responders / n : null, ci95: wilson(responders, n) };
}

/**
 * Newcombe's hybrid score interval for p₁ − p₂ (his method 10): with Wilson intervals (l₁, u₁)
 * and (l₂, u₂), L = d − √((p₁−l₁)² + (u₂−p₂)²), U = d + √((u₁−p₁)² + (p₂−l₂)²).
 */
export function newcombe(x1: number, n1: number, x2: number, n2: number, z = Z95): Interval | null {
  const w1 = wilson(x1, n1, z);
  const w2 = wilson(x2, n2, z);
  if (!w1 || !w2) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const d = p1 - p2;
  return [d - Math.hypot(p1 - w1[0], w2[1] - p2), d + Math.hypot(w1[1] - p1, p2 - w2[0])];
}

export interface RelativeLift {
  /** p₁/p₂ − 1; null when the holdout has no responders (the ratio is infinite). */
  estimate: number | null;
  /** exp(ln RR ± z·√(1/x₁ − 1/n₁ + 1/x₂ − 1/n₂)) − 1. */
  ci95: Interval | null;
  /** True when a zero cell made us add ½ to each count and each n (as statsmodels' "log-adjusted"). */
  adjusted: boolean;
}

/**
 * Relative lift with a log risk-ratio (Katz) interval. The variance has 1/x terms, so with a zero
 * count we add ½ to every count and every n for the interval (the Haldane–Anscombe idea in the form
 * statsmodels uses for `method="log-adjusted"`); the point estimate stays the raw ratio.
 */
export function relativeLift(x1: number, n1: number, x2: number, n2: number, z = Z95): RelativeLift {
  if (n1 <= 0 || n2 <= 0) return { estimate: null, ci95: null, adjusted: false };
  const estimate = x2 > 0 ? x1 / n1 / (x2 / n2) - 1 : null;
  if (x1 === 0 && x2 === 0) return { estimate, ci95: null, adjusted: false };
  const adjusted = x1 === 0 || x2 === 0;
  const a = adjusted ? 0.5 : 0;
  const [c1, m1, c2, m2] = [x1 + a, n1 + a, x2 + a, n2 + a];
  const logRatio = Math.log(c1 / m1 / (c2 / m2));
  const half = z * Math.sqrt(1 / c1 - 1 / m1 + 1 / c2 - 1 / m2);
  return { estimate, ci95: [Math.exp(logRatio - half) - 1, Math.exp(logRatio + half) - 1], adjusted };
}

/** The 2×2 table's expected counts under independence (row total × column total / N). */
export function expectedCells(x1: number, n1: number, x2: number, n2: number): number[] {
  const N = n1 + n2;
  const yes = x1 + x2;
  const no = N - yes;
  return [(n1 * yes) / N, (n1 * no) / N, (n2 * yes) / N, (n2 * no) / N];
}

/**
 * Pooled two-proportion z test, two-sided: z = (p₁ − p₂)/√(p̄(1−p̄)(1/n₁ + 1/n₂)) with
 * p̄ = (x₁+x₂)/(n₁+n₂); p = 2Φ(−|z|). p = 1 when nobody or everybody responded.
 */
export function zTest(x1: number, n1: number, x2: number, n2: number): { z: number; p: number } {
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (!(se > 0)) return { z: 0, p: 1 };
  const z = (x1 / n1 - x2 / n2) / se;
  // Φ(−|z|) rather than 1 − Φ(|z|), which rounds to 0 for large samples.
  return { z, p: Math.min(1, 2 * phi(-Math.abs(z))) };
}

/**
 * Fisher's exact test, two-sided as scipy.stats.fisher_exact computes it: the probability, under
 * the hypergeometric distribution of the table with its margins fixed, of every table no more
 * likely than the one observed. "No more likely" allows a relative tolerance of 1e-7, so ties
 * that differ only by rounding count as ties (as R does; scipy uses 1e-14 on exact arithmetic).
 */
export function fisherExact(x1: number, n1: number, x2: number, n2: number): number {
  const N = n1 + n2;
  const responders = x1 + x2;
  if (n1 === 0 || n2 === 0 || responders === 0 || responders === N) return 1;
  // Table [[x1, n1−x1], [x2, n2−x2]]: x1 ~ Hypergeometric(N, n1 successes, `responders` draws).
  const pmf = (x: number) => hypergeometric(x, N, n1, responders);
  const observed = pmf(x1);
  const limit = observed * (1 + 1e-7);
  const lo = Math.max(0, responders - n2);
  const hi = Math.min(responders, n1);
  let p = 0;
  for (let x = lo; x <= hi; x++) {
    const q = x === x1 ? observed : pmf(x);
    if (q <= limit) p += q;
  }
  return Math.min(1, p);
}

export type TestName = 'z' | 'fisher';

/** The z test, or Fisher's exact test when any expected cell is below 5 (the z test's normal approximation fails there). */
export function differenceTest(x1: number, n1: number, x2: number, n2: number): { p: number; test: TestName } {
  if (expectedCells(x1, n1, x2, n2).some((e) => e < 5)) return { p: fisherExact(x1, n1, x2, n2), test: 'fisher' };
  return { p: zTest(x1, n1, x2, n2).p, test: 'z' };
}

export interface Lift {
  /** p₁ − p₂ as a fraction. */
  absolute: number | null;
  absolute_ci95: Interval | null;
  relative: number | null;
  relative_ci95: Interval | null;
  /** The relative interval used the ½ correction for a zero cell. */
  relative_adjusted: boolean;
  p_value: number | null;
  test: TestName | null;
}

/** Group 1 (treated, or a variant) against group 2 (the holdout, or another variant). */
export function lift(x1: number, n1: number, x2: number, n2: number): Lift {
  if (n1 <= 0 || n2 <= 0)
    return {
      absolute: null,
      absolute_ci95: null,
      relative: null,
      relative_ci95: null,
      relative_adjusted: false,
      p_value: null,
      test: null,
    };
  const rel = relativeLift(x1, n1, x2, n2);
  const { p, test } = differenceTest(x1, n1, x2, n2);
  return {
    absolute: x1 / n1 - x2 / n2,
    absolute_ci95: newcombe(x1, n1, x2, n2),
    relative: rel.estimate,
    relative_ci95: rel.ci95,
    relative_adjusted: rel.adjusted,
    p_value: p,
    test,
  };
}

export interface Incremental {
  /** n₁ × (p₁ − p₂): the treated who responded because of the campaign. */
  estimate: number | null;
  /** n₁ × the Newcombe interval's ends. */
  ci95: Interval | null;
}

export function incrementalResponders(treatedN: number, l: Lift): Incremental {
  if (l.absolute === null) return { estimate: null, ci95: null };
  return {
    estimate: treatedN * l.absolute,
    ci95: l.absolute_ci95 ? [treatedN * l.absolute_ci95[0], treatedN * l.absolute_ci95[1]] : null,
  };
}

/** A cost per something, in minor units; `null` ends mean unbounded (said in `note`). */
export interface CostPer {
  estimate: number | null;
  ci95: [number | null, number | null] | null;
  note: string | null;
}

/** Cost per response: total cost / treated responders (minor units, rounded). */
export function costPerResponse(costMinor: number, responders: number): CostPer {
  if (responders <= 0) return { estimate: null, ci95: null, note: 'no responders: unbounded' };
  return { estimate: Math.round(costMinor / responders), ci95: null, note: null };
}

/**
 * Cost per incremental response: cost / incremental responders, its interval cost/upper to
 * cost/lower. When the interval's lower end is ≤ 0 the campaign may have caused no response at
 * all, so the cost per incremental response has no upper bound; when the estimate itself is ≤ 0,
 * neither has the estimate.
 */
export function costPerIncremental(costMinor: number, inc: Incremental): CostPer {
  if (inc.estimate === null) return { estimate: null, ci95: null, note: 'no holdout to compare with' };
  const estimate = inc.estimate > 0 ? Math.round(costMinor / inc.estimate) : null;
  if (!inc.ci95) return { estimate, ci95: null, note: null };
  const [lo, hi] = inc.ci95;
  const low = hi > 0 ? Math.round(costMinor / hi) : null;
  const high = lo > 0 ? Math.round(costMinor / lo) : null;
  const note =
    inc.estimate <= 0
      ? 'no incremental responders measured: unbounded'
      : lo <= 0
        ? 'the interval of incremental responders includes zero: no upper bound'
        : null;
  return { estimate, ci95: [low, high], note };
}

/** (incremental revenue − cost) / cost, both in minor units; null without a cost. */
export function roi(incrementalRevenueMinor: number | null, costMinor: number): number | null {
  if (incrementalRevenueMinor === null || costMinor <= 0) return null;
  return (incrementalRevenueMinor - costMinor) / costMinor;
}

/**
 * Holm's step-down adjustment: sort p ascending, adjusted pᵢ = max over j ≤ i of
 * min(1, (m − j + 1)·p₍ⱼ₎); returned in the input's order. Nulls stay null and do not count in m.
 */
export function holm(pValues: (number | null)[]): (number | null)[] {
  const indexed = pValues.flatMap((p, i) => (p === null ? [] : [{ p, i }])).sort((a, b) => a.p - b.p);
  const m = indexed.length;
  const out: (number | null)[] = pValues.map(() => null);
  let running = 0;
  indexed.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

export interface SampleRatio {
  chi2: number;
  df: number;
  p_value: number;
  /** p < 0.001: the split does not match the plan; the groups may not be comparable. */
  flagged: boolean;
}

/**
 * Pearson's χ² goodness-of-fit test of observed group sizes against planned shares (which need
 * not sum to 1; they are normalised): χ² = Σ (O − E)²/E with k − 1 degrees of freedom, p = 1 − F(χ²).
 * Groups planned at share 0 are left out. Null when fewer than two groups remain or nobody is in them.
 */
export function sampleRatioTest(observed: number[], shares: number[]): SampleRatio | null {
  const keep = shares.map((s, i) => ({ s, o: observed[i] ?? 0 })).filter((g) => g.s > 0);
  const total = keep.reduce((a, g) => a + g.o, 0);
  const shareSum = keep.reduce((a, g) => a + g.s, 0);
  if (keep.length < 2 || total === 0) return null;
  const chi2 = keep.reduce((a, g) => {
    const e = (total * g.s) / shareSum;
    return a + (g.o - e) ** 2 / e;
  }, 0);
  const df = keep.length - 1;
  const p = 1 - chiSquareCdf(chi2, df); // exact enough: only p < 0.001 matters
  return { chi2, df, p_value: p, flagged: p < 0.001 };
}
