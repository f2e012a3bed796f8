"""The drift tests, as vectorized functions of sorted samples or of counts.

Every function here is pure numpy/scipy and has no notion of columns, windows or
reports; :mod:`.drift` picks which one runs on which column.

Two families:

* two-sample tests on sorted numeric samples (exact): Kolmogorov-Smirnov and the
  Wasserstein-1 distance, both from one linear merge of the two sorted samples;
  :func:`wasserstein_weighted` is the same distance between weighted point sets (the
  streamed current window is summarised as weighted points, see :mod:`.window`);
* tests on counts per bin or per category (exact whenever the counts are): chi-square
  test of homogeneity, Jensen-Shannon distance and the population stability index.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from scipy.spatial import distance

#: ``scipy.stats.ks_2samp`` switches from the exact to the asymptotic p-value above this.
KS_EXACT_MAX_N = 10_000
#: Shares below this are floored before the PSI logarithm (a bin empty on one side).
PSI_EPSILON = 1e-4
#: The Wasserstein distance is divided by max(reference std, this), as Evidently does.
WASSERSTEIN_MIN_NORM = 1e-3

P_VALUE_TESTS = frozenset({"ks", "chisquare"})
"""Tests whose statistic is a p-value: drift when ``p < threshold``. Others: ``>=``."""


def merged_cdf_gap(u_sorted: np.ndarray, v_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge two sorted samples: the merged values and ``n*m*(F_u - F_v)`` after each.

    ``F_u`` and ``F_v`` are the empirical CDFs; the scaled gap is an exact integer
    (int64), so ties and rounding cannot disturb the statistics built on it. The merge
    is numpy's stable argsort, which on two sorted runs is a single linear merge.
    """
    n, m = len(u_sorted), len(v_sorted)
    merged = np.concatenate([u_sorted, v_sorted])
    order = np.argsort(merged, kind="stable")
    values = merged[order]
    steps = np.where(order < n, np.int64(m), np.int64(-n))
    return values, np.cumsum(steps)


def ks_statistic_sorted(u_sorted: np.ndarray, v_sorted: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic ``sup |F_u - F_v|`` of sorted samples."""
    n, m = len(u_sorted), len(v_sorted)
    values, gap = merged_cdf_gap(u_sorted, v_sorted)
    run_ends = np.flatnonzero(values[1:] != values[:-1])  # CDFs are read after a tie run
    if len(run_ends) == 0:
        return 0.0
    return float(np.abs(gap[run_ends]).max() / (n * m))


def ks_pvalue(d: float, n1: int, n2: int) -> float:
    """Two-sided p-value of a two-sample KS statistic, as ``scipy.stats.ks_2samp`` gives it.

    Exact distribution when both samples have at most 10,000 values (scipy's
    ``method="auto"``), Smirnov's asymptotic distribution ``kstwo(round(n1 n2/(n1+n2)))``
    otherwise, or when scipy's exact routine is unavailable or fails.
    """
    if n1 <= 0 or n2 <= 0:
        return 1.0
    if max(n1, n2) <= KS_EXACT_MAX_N:
        exact = _ks_exact_pvalue(d, n1, n2)
        if exact is not None:
            return exact
    m, n = sorted((float(n1), float(n2)), reverse=True)
    en = m * n / (m + n)
    return float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def _ks_exact_pvalue(d: float, n1: int, n2: int) -> float | None:
    # scipy has no public function for the exact two-sample distribution; ks_2samp uses
    # this private helper. Guarded: any change in scipy falls back to the asymptotic form.
    helper = getattr(getattr(stats, "_stats_py", None), "_attempt_exact_2kssamp", None)
    if helper is None:
        return None
    try:
        success, _d, prob = helper(n1, n2, math.gcd(n1, n2), d, "two-sided")
    except Exception:  # pragma: no cover - depends on scipy internals
        return None
    return float(np.clip(prob, 0.0, 1.0)) if success else None


def wasserstein_sorted(u_sorted: np.ndarray, v_sorted: np.ndarray) -> float:
    """Wasserstein-1 distance ``∫ |F_u - F_v| dx`` between two sorted samples (exact)."""
    n, m = len(u_sorted), len(v_sorted)
    values, gap = merged_cdf_gap(u_sorted, v_sorted)
    return float(np.abs(gap[:-1]).astype(np.float64) @ np.diff(values) / (n * m))


def wasserstein_weighted(u_values: np.ndarray, u_weights: np.ndarray,
                         v_values: np.ndarray, v_weights: np.ndarray) -> float:
    """Wasserstein-1 distance between two weighted point sets (weights need not sum to 1).

    Each side is normalised to total mass 1; values need not be sorted.
    """
    u_w = u_weights / u_weights.sum()
    v_w = v_weights / v_weights.sum()
    merged = np.concatenate([u_values, v_values])
    order = np.argsort(merged, kind="stable")
    values = merged[order]
    gap = np.cumsum(np.concatenate([u_w, -v_w])[order])
    return float(np.abs(gap[:-1]) @ np.diff(values))


def normed_wasserstein(distance_value: float, reference_std: float) -> float:
    """Wasserstein distance in units of the reference standard deviation (floored norm)."""
    return distance_value / max(reference_std, WASSERSTEIN_MIN_NORM)


def chi_square_homogeneity(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Chi-square test that two samples share one categorical distribution.

    A 2 x K contingency table (no continuity correction); categories empty on both
    sides are dropped. Returns ``(statistic, p_value)``; a single category gives
    ``(0, 1)``. With two categories this equals the two-proportion z-test (χ² = z²).
    """
    table = np.vstack([ref_counts, cur_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def jensen_shannon(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log, so within [0, sqrt(ln 2)]) of two count vectors."""
    p = np.asarray(ref_counts, dtype=np.float64)
    q = np.asarray(cur_counts, dtype=np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return 0.0
    return float(distance.jensenshannon(p / p.sum(), q / q.sum()))


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index ``Σ (c - r) ln(c / r)`` over shares floored at ``epsilon``."""
    r = np.asarray(ref_counts, dtype=np.float64)
    c = np.asarray(cur_counts, dtype=np.float64)
    if r.sum() <= 0 or c.sum() <= 0:
        return 0.0
    r = np.maximum(r / r.sum(), epsilon)
    c = np.maximum(c / c.sum(), epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


def is_drift(test: str, statistic: float, threshold: float) -> bool:
    """The drift decision of one test: ``p < threshold`` or ``distance >= threshold``."""
    if test in P_VALUE_TESTS:
        return statistic < threshold
    return statistic >= threshold


def severity(test: str, statistic: float, threshold: float) -> float:
    """How far a statistic is past its threshold, on one scale for every test (1 = threshold).

    Distances: ``statistic / threshold``. p-values: ``log p / log threshold``, so that
    ``p = threshold`` scores 1 and every factor of ``threshold`` smaller adds 1.
    """
    if test in P_VALUE_TESTS:
        p = max(statistic, 1e-300)
        return float(math.log(p) / math.log(threshold)) if p < 1 else 0.0
    return float(statistic / threshold)
