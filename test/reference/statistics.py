#!/usr/bin/env python3
"""Reference values for pipeline/report/statistics.ts and power.ts, computed independently with
scipy and statsmodels. Run it again after changing a case:

    pip install scipy statsmodels
    python3 test/reference/statistics.py > test/reference/statistics.json
    npx prettier --write test/reference/statistics.json   # layout only

The unit tests (test/unit/statistics.test.ts) compare the TypeScript code with this output.
"""
import json

import numpy as np
import scipy
import statsmodels
from scipy import stats
from scipy.stats.contingency import expected_freq
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

# (treated responders, treated n, holdout responders, holdout n)
PAIRS = {
    "issue_example_holdout_2_of_49": (60, 451, 2, 49),
    "holdout_0_of_51": (56, 449, 0, 51),
    "small_both": (3, 20, 0, 18),
    "holdout_2_of_40_fisher": (20, 300, 2, 40),
    "holdout_0_of_40_fisher": (25, 400, 0, 40),
    "treated_0": (0, 300, 4, 60),
    "moderate_z": (240, 2000, 40, 500),
    "equal_rates_tie": (5, 10, 5, 10),
    "large_sample": (45000, 900000, 4200, 100000),
    "negative_lift": (30, 1000, 60, 1000),
}


def pair(x1, n1, x2, n2):
    ex = expected_freq(np.array([[x1, n1 - x1], [x2, n2 - x2]]))
    any_zero = x1 == 0 or x2 == 0
    rr_low, rr_upp = confint_proportions_2indep(
        x1, n1, x2, n2, method="log-adjusted" if any_zero else "log", compare="ratio"
    )
    d_low, d_upp = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    if x1 + x2 in (0, n1 + n2):
        z, pz = 0.0, 1.0
    else:
        z, pz = proportions_ztest([x1, x2], [n1, n2])
    _, pf = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided")
    return {
        "counts": [x1, n1, x2, n2],
        "wilson1": list(proportion_confint(x1, n1, method="wilson")),
        "wilson2": list(proportion_confint(x2, n2, method="wilson")),
        "newcombe": [d_low, d_upp],
        "relative": (x1 / n1) / (x2 / n2) - 1 if x2 > 0 else None,
        "relative_ci95": [rr_low - 1, rr_upp - 1],
        "relative_adjusted": bool(any_zero),
        "expected_cells": ex.ravel().tolist(),
        "z": float(z),
        "z_p": float(pz),
        "fisher_p": float(pf),
        "test": "fisher" if (ex < 5).any() else "z",
    }


def mde(n1, n2, p0):
    h = NormalIndPower().solve_power(effect_size=None, nobs1=n1, alpha=0.05, power=0.8, ratio=n2 / n1)
    p1 = np.sin(np.arcsin(np.sqrt(p0)) + h / 2) ** 2
    return float(p1 - p0)


def holdout_needed(total, p0, lift):
    h = proportion_effectsize(p0 + lift, p0)
    power = NormalIndPower()
    for n2 in range(1, total // 2 + 1):
        if power.power(effect_size=h, nobs1=total - n2, alpha=0.05, ratio=n2 / (total - n2)) >= 0.8:
            return n2
    return None


holm_in = [0.01, 0.04, 0.03, 0.005, 0.2]
srm_cases = [
    ([451, 49], [0.9, 0.1]),
    ([230, 221, 49], [0.45, 0.45, 0.1]),
    ([9000, 800], [0.9, 0.1]),
    ([500000, 100000], [0.8, 0.2]),
]

out = {
    "versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
    "z95": float(stats.norm.ppf(0.975)),
    "pairs": {name: pair(*c) for name, c in PAIRS.items()},
    "holm": {"p": holm_in, "adjusted": multipletests(holm_in, method="holm")[1].tolist()},
    "sample_ratio": [
        {
            "observed": o,
            "shares": s,
            "chi2": float(r.statistic),
            "p": float(r.pvalue),
        }
        for o, s in srm_cases
        for r in [stats.chisquare(o, f_exp=np.array(s) / sum(s) * sum(o))]
    ],
    "power": [
        {"treated": n1, "holdout": n2, "baseline": p0, "mde": mde(n1, n2, p0)}
        for n1, n2, p0 in [(451, 49, 0.05), (450, 50, 0.05), (9000, 1000, 0.03), (250, 250, 0.2)]
    ],
    "holdout_needed": [
        {"total": t, "baseline": p0, "lift": d, "n2": holdout_needed(t, p0, d)}
        for t, p0, d in [(500, 0.05, 0.03), (10000, 0.05, 0.03), (3000, 0.05, 0.03), (100000, 0.05, 0.01)]
    ],
}
print(json.dumps(out, indent=2))
