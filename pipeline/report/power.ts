// Power before launch: the smallest lift a planned holdout can detect, and the holdout a wanted
// lift needs. Pure functions of counts (no I/O), for `launch --dry-run` and `segment preview`.
//
// Effect sizes are Cohen's h = 2·asin√p₁ − 2·asin√p₀ (the arcsine transform makes the variance
// independent of the rate), and the power of the two-sided test at level α with n₁ treated and n₂
// held out is Φ(h·√n′ − z) + Φ(−h·√n′ − z), n′ = 1/(1/n₁ + 1/n₂), z = Φ⁻¹(1 − α/2) — the
// computation of statsmodels' NormalIndPower, which test/reference/statistics.py uses to check it.
import { phi, phiInverse } from './distributions.ts';

export const ALPHA = 0.05;
export const POWER = 0.8;

function power(h: number, n1: number, n2: number, alpha = ALPHA): number {
  const z = phiInverse(1 - alpha / 2);
  const root = Math.sqrt(1 / (1 / n1 + 1 / n2));
  return phi(h * root - z) + phi(-h * root - z);
}

/** The rate p₀ raised by Cohen's h: sin²(asin√p₀ + h/2), or null when it would pass 1. */
function raise(p0: number, h: number): number | null {
  const angle = Math.asin(Math.sqrt(p0)) + h / 2;
  return angle > Math.PI / 2 ? null : Math.sin(angle) ** 2;
}

/** Cohen's h that n₁ and n₂ detect with the given power (bisection on the monotone power curve). */
export function detectableH(n1: number, n2: number, alpha = ALPHA, wanted = POWER): number {
  let lo = 0;
  let hi = Math.PI;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (power(mid, n1, n2, alpha) < wanted) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The minimum detectable lift, in absolute rate (0.13 = 13 points), over an expected response
 * rate `baseline` for n₁ treated and n₂ held out at α = 0.05 and 80 % power; null when even a
 * rate of 100 % would not be detected.
 */
export function minimumDetectableLift(n1: number, n2: number, baseline: number, alpha = ALPHA): number | null {
  if (n1 <= 0 || n2 <= 0) return null;
  const treated = raise(baseline, detectableH(n1, n2, alpha));
  return treated === null ? null : treated - baseline;
}

/**
 * The smallest holdout, out of `total` members, whose split (total − n₂ treated, n₂ held out) detects
 * an absolute lift `lift` over `baseline`; null when not even an even split does.
 */
export function holdoutNeeded(total: number, baseline: number, lift: number, alpha = ALPHA): number | null {
  const target = baseline + lift;
  if (target > 1 || lift <= 0) return null;
  const h = 2 * Math.asin(Math.sqrt(target)) - 2 * Math.asin(Math.sqrt(baseline));
  const enough = (n2: number) => power(h, total - n2, n2, alpha) >= POWER;
  let hi = Math.floor(total / 2);
  if (hi < 1 || !enough(hi)) return null;
  let lo = 0; // not enough (no holdout)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (enough(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

export interface PowerCheck {
  treated: number;
  holdout: number;
  expected_response: number;
  expected_lift: number;
  minimum_detectable_lift: number | null;
  holdout_needed: number | null;
  /** True when the holdout cannot detect the lift the campaign expects. */
  warn: boolean;
  message: string;
}

const points = (rate: number) => {
  const p = rate * 100;
  return p >= 10 ? Math.round(p).toString() : (Math.round(p * 10) / 10).toString();
};

/**
 * The line `launch --dry-run` and `segment preview` print, e.g. "a holdout of 49 can only detect a
 * lift of about 13 points over a 5 % response rate (α = 0.05, 80 % power); hold out 197 of 500 to
 * detect 3 points".
 */
export function powerCheck(treated: number, holdout: number, expectedResponse = 0.05, expectedLift = 0.03): PowerCheck {
  const total = treated + holdout;
  const mde = minimumDetectableLift(treated, holdout, expectedResponse);
  const needed = holdoutNeeded(total, expectedResponse, expectedLift);
  const warn = mde === null || mde > expectedLift;
  const over = `over a ${points(expectedResponse)} % response rate (α = 0.05, 80 % power)`;
  let message: string;
  if (holdout === 0) message = 'no holdout: the lift cannot be measured';
  else if (mde === null) message = `a holdout of ${holdout} cannot detect any lift ${over}`;
  else
    message = `a holdout of ${holdout} can ${warn ? 'only ' : ''}detect a lift of about ${points(mde)} points ${over}`;
  if (warn && total > 0)
    message +=
      needed === null
        ? `; not even an even split of ${total} detects ${points(expectedLift)} points`
        : `; hold out ${needed} of ${total} to detect ${points(expectedLift)} points`;
  return {
    treated,
    holdout,
    expected_response: expectedResponse,
    expected_lift: expectedLift,
    minimum_detectable_lift: mde,
    holdout_needed: needed,
    warn,
    message,
  };
}
