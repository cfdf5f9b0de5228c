// The distributions the report's statistics need, from @stdlib (maintained, tested), not written
// here. The packages are CommonJS; their typings are `export =`.
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import hypergeometricPmf from '@stdlib/stats-base-dists-hypergeometric-pmf';

/** Φ(x), the standard normal distribution function. */
export const phi = (x: number): number => normalCdf(x, 0, 1);
/** Φ⁻¹(p). */
export const phiInverse = (p: number): number => normalQuantile(p, 0, 1);
/** P(X² ≤ x) for k degrees of freedom. */
export const chiSquareCdf = (x: number, k: number): number => chisquareCdf(x, k);
/** P(X = x) drawing `draws` from a population of `population` holding `successes`. */
export const hypergeometric = (x: number, population: number, successes: number, draws: number): number =>
  hypergeometricPmf(x, population, successes, draws);
