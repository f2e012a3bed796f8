"""Data drift between a reference and a current window, column by column.

Entry points: :func:`drift_report` (current in memory, or an iterable of chunks),
:func:`drift_report_stream` (chunks, memory bounded) and :class:`DriftAccumulator`
(feed chunks yourself, e.g. while reading a prediction log).

Default test per column, as Evidently chooses it, on the reference's non-null values:

=====================================  ==================  =======================
column                                 reference ≤ 1,000   reference > 1,000
=====================================  ==================  =======================
numeric, > 5 distinct reference values KS, p < 0.05        Wasserstein / std ≥ 0.1
numeric ≤ 5 distinct, categorical      chi-square, p < 0.05 Jensen-Shannon ≥ 0.1
=====================================  ==================  =======================

PSI is computed for every column and reported alongside (significant at ≥ 0.2). Any
column's test and threshold can be overridden: ``tests={"age": ("psi", 0.1)}``,
``tests={"age": "ks"}`` (default threshold) or ``{"age": {"test": "ks",
"threshold": 0.01}}``; the key ``"*"`` applies to every column without its own entry.
The dataset drifts when the share of drifted columns among the tested ones is at
least ``drift_share``.

Where the binned tests meet a numeric column (PSI always; chi-square or
Jensen-Shannon when overridden), the bins are the reference's quantile bins (10 for
PSI, 20 otherwise; open at both ends), so they depend on the reference only.

Differences from Evidently, on purpose: chi-square is the test of homogeneity on the
2 x K table of counts (Evidently compares the current counts with the reference shares
taken as exact, which flags nearly every unshifted column when the current window is
much larger than a 1,000-row reference: 300 of 300 simulated 4-level columns with a
100,000-row window, against 12 of 300 here), which also covers the binary case
where Evidently runs a two-proportion z-test (same p-value); the distinct-value rule
counts the reference only, so that the test is known before the window is read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInput
from . import stattests as st
from .reference import (
    ColumnReference,
    DriftReference,
    counts_on_cuts,
)
from .report import ColumnDrift, DriftReport
from .window import ColumnWindow
from .workers import map_columns

DEFAULT_THRESHOLDS: dict[str, float] = {
    "ks": 0.05, "wasserstein": 0.1, "chisquare": 0.05, "jensenshannon": 0.1, "psi": 0.2,
}
TEST_NAMES = tuple(DEFAULT_THRESHOLDS)
SMALL_REFERENCE_ROWS = 1000
DEFAULT_DRIFT_SHARE = 0.5
DEFAULT_PSI_THRESHOLD = 0.2
NUMERIC_ONLY = frozenset({"ks", "wasserstein"})
_ALIASES = {"kolmogorov-smirnov": "ks", "kolmogorov_smirnov": "ks", "chi2": "chisquare",
            "chi-square": "chisquare", "chi_square": "chisquare", "js": "jensenshannon",
            "jensen-shannon": "jensenshannon", "jensen_shannon": "jensenshannon",
            "wasserstein_distance": "wasserstein"}
#: Categories shown per column in distributions and notes.
SHOWN_CATEGORIES = 15

TestSpec = str | tuple[str, float] | Mapping[str, Any]
"""A column's test: a name, ``(name, threshold)`` or ``{"test": name, "threshold": t}``."""


def default_test(column: ColumnReference) -> str:
    """The test Evidently would choose for this reference column (see module docs)."""
    small = column.tested_rows <= SMALL_REFERENCE_ROWS
    if column.kind == "numeric":
        return "ks" if small else "wasserstein"
    return "chisquare" if small else "jensenshannon"


def resolve_tests(reference: DriftReference,
                  tests: Mapping[str, TestSpec] | None) -> dict[str, tuple[str, float]]:
    """``{column: (test, threshold)}`` for every reference column, overrides validated."""
    overrides = dict(tests or {})
    unknown = [c for c in overrides if c != "*" and c not in reference.columns]
    if unknown:
        raise InvalidInput(f"tests names columns not in the drift reference: {unknown}")
    out: dict[str, tuple[str, float]] = {}
    for name, column in reference.columns.items():
        spec = overrides.get(name, overrides.get("*"))
        if spec is None:
            test = default_test(column)
            out[name] = (test, DEFAULT_THRESHOLDS[test])
            continue
        test, threshold = _parse_spec(name, spec)
        if test in NUMERIC_ONLY and column.numeric is None:
            if name not in overrides:  # a "*" default that cannot apply to this column
                test = default_test(column)
                threshold = DEFAULT_THRESHOLDS[test]
            else:
                raise InvalidInput(f"test {test!r} needs a numeric column; {name!r} is "
                                   f"{column.kind}")
        out[name] = (test, threshold)
    return out


def _parse_spec(column: str, spec: TestSpec) -> tuple[str, float]:
    threshold: Any = None
    name: Any
    if isinstance(spec, str):
        name = spec
    elif isinstance(spec, Mapping):
        name, threshold = spec.get("test"), spec.get("threshold")
    elif isinstance(spec, (tuple, list)) and len(spec) == 2:
        name, threshold = spec
    else:
        raise InvalidInput(f"test for column {column!r} must be a name, (name, threshold) or "
                           f"{{'test': name, 'threshold': t}}, not {spec!r}")
    test = _ALIASES.get(str(name).lower(), str(name).lower())
    if test not in DEFAULT_THRESHOLDS:
        raise InvalidInput(f"unknown drift test {name!r} for column {column!r}; "
                           f"known: {', '.join(TEST_NAMES)}")
    value = DEFAULT_THRESHOLDS[test] if threshold is None else _threshold(column, threshold)
    if test in st.P_VALUE_TESTS and not 0 < value < 1:
        raise InvalidInput(f"the p-value threshold of {test!r} on {column!r} must be "
                           f"between 0 and 1, not {value}")
    return test, value


def _threshold(column: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"threshold for column {column!r} must be a number, "
                           f"not {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"threshold for column {column!r} must be a positive number, "
                           f"not {value!r}")
    return number


def _check_share(name: str, value: float, upper: float | None) -> float:
    number = _threshold(name, value)
    if upper is not None and number > upper:
        raise InvalidInput(f"{name} must be in (0, {upper:g}], not {value!r}")
    return number


class DriftAccumulator:
    """Drift of a current window fed chunk by chunk against a prepared reference.

    Memory holds the reference summaries, one chunk at a time and, per column, a
    summary whose size depends on the reference only (see :mod:`.window`). With
    ``exact=True`` the current values are kept instead and every statistic is exact.
    ``workers``: threads working on columns in parallel (default: the CPUs, up to 4).
    """

    def __init__(self, reference: Any, *, tests: Mapping[str, TestSpec] | None = None,
                 drift_share: float = DEFAULT_DRIFT_SHARE,
                 psi_threshold: float = DEFAULT_PSI_THRESHOLD,
                 columns: Sequence[str] | None = None, kinds: Mapping[str, str] | None = None,
                 exact: bool = False, workers: int | None = None) -> None:
        self.workers = workers
        self.reference = DriftReference.coerce(reference, columns=columns, kinds=kinds,
                                               workers=workers)
        self.tests = resolve_tests(self.reference, tests)
        self.drift_share = _check_share("drift_share", drift_share, 1.0)
        self.psi_threshold = _check_share("psi_threshold", psi_threshold, None)
        self.exact = exact
        self.windows = {name: ColumnWindow(col, keep=exact)
                        for name, col in self.reference.columns.items()}
        self.rows = 0
        self.chunks = 0
        self.extra_columns: list[str] = []

    def update(self, chunk: pd.DataFrame) -> None:
        """Add one chunk of the current window (columns matched by name)."""
        if not isinstance(chunk, pd.DataFrame):
            raise InvalidInput(f"current data chunks must be DataFrames, not "
                               f"{type(chunk).__name__}")
        by_name = {str(c): c for c in chunk.columns}
        rows = len(chunk)
        work = [(window, chunk[by_name[name]] if name in by_name else None)
                for name, window in self.windows.items()]
        map_columns(lambda item: item[0].add(item[1], rows), work,
                    values=rows * len(work), workers=self.workers)
        if self.chunks == 0:
            self.extra_columns = [c for c in by_name if c not in self.windows]
        self.rows += rows
        self.chunks += 1

    def report(self) -> DriftReport:
        """The drift report of everything added so far."""
        names = list(self.reference.columns)
        columns = map_columns(
            lambda name: evaluate_column(self.reference.columns[name], self.windows[name],
                                         *self.tests[name], psi_threshold=self.psi_threshold,
                                         exact=self.exact),
            names, values=(self.reference.rows + self.rows) * len(names), workers=self.workers)
        used = {test for test, _ in self.tests.values()}
        return DriftReport(
            columns=columns, drift_share=self.drift_share, psi_threshold=self.psi_threshold,
            mode="exact" if self.exact else "streamed", reference_rows=self.reference.rows,
            current_rows=self.rows, chunks=self.chunks, reference_source=self.reference.source,
            thresholds={t: DEFAULT_THRESHOLDS[t] for t in TEST_NAMES if t in used},
            extra_columns=self.extra_columns)


def drift_report(reference: Any, current: pd.DataFrame | Iterable[pd.DataFrame], *,
                 tests: Mapping[str, TestSpec] | None = None,
                 drift_share: float = DEFAULT_DRIFT_SHARE,
                 psi_threshold: float = DEFAULT_PSI_THRESHOLD,
                 columns: Sequence[str] | None = None,
                 kinds: Mapping[str, str] | None = None,
                 workers: int | None = None) -> DriftReport:
    """Drift of ``current`` against ``reference``, column by column.

    ``reference``: a DataFrame, a dataset profile (see
    :meth:`DriftReference.from_profile`) or a prepared :class:`DriftReference`.
    ``current``: a DataFrame (every statistic exact) or an iterable of DataFrame chunks
    (streamed, memory bounded: see :func:`drift_report_stream`). ``tests`` overrides
    tests and thresholds per column; ``columns`` restricts the comparison; ``kinds``
    forces ``"numeric"`` or ``"categorical"`` per column; ``workers`` sets the threads
    working on columns in parallel (default: the CPUs, up to 4; 1 = serial).
    """
    if isinstance(current, pd.DataFrame):
        acc = DriftAccumulator(reference, tests=tests, drift_share=drift_share,
                               psi_threshold=psi_threshold, columns=columns, kinds=kinds,
                               exact=True, workers=workers)
        acc.update(current)
        return acc.report()
    return drift_report_stream(reference, current, tests=tests, drift_share=drift_share,
                               psi_threshold=psi_threshold, columns=columns, kinds=kinds,
                               workers=workers)


def drift_report_stream(reference: Any, chunks: Iterable[pd.DataFrame], *,
                        tests: Mapping[str, TestSpec] | None = None,
                        drift_share: float = DEFAULT_DRIFT_SHARE,
                        psi_threshold: float = DEFAULT_PSI_THRESHOLD,
                        columns: Sequence[str] | None = None,
                        kinds: Mapping[str, str] | None = None,
                        workers: int | None = None) -> DriftReport:
    """Drift of a current window given as an iterable of DataFrame chunks.

    Holds one chunk at a time plus fixed-size summaries. Chi-square, Jensen-Shannon
    and PSI are exact (they only need counts). KS is exact while the reference has at
    most 4,096 distinct values (always so for the ≤ 1,000-row references it is chosen
    for). Wasserstein, and KS on larger references, come with ``bounds`` that contain
    the exact value (see :class:`~.window.NumericWindow`).
    """
    if isinstance(chunks, (pd.DataFrame, str, bytes)) or not isinstance(chunks, Iterable):
        raise InvalidInput("the current window must be a DataFrame or an iterable of "
                           "DataFrames")
    acc = DriftAccumulator(reference, tests=tests, drift_share=drift_share,
                           psi_threshold=psi_threshold, columns=columns, kinds=kinds,
                           workers=workers)
    for chunk in chunks:
        acc.update(chunk)
    return acc.report()


# ---------------------------------------------------------------------- one column
def evaluate_column(ref: ColumnReference, win: ColumnWindow, test: str, threshold: float, *,
                    psi_threshold: float, exact: bool) -> ColumnDrift:
    """Run one column's test and PSI; anything that prevents a test becomes a note."""
    out = ColumnDrift(column=ref.name, kind=ref.kind, test=test, threshold=threshold,
                      reference_values=ref.tested_rows, current_values=win.values,
                      reference_missing_share=ref.missing_share,
                      current_missing_share=(win.missing / win.rows) if win.rows else None)
    _missing_notes(ref, win, out)
    if ref.distinct == 1:
        out.notes.append("constant in reference")
    if ref.tested_rows == 0:
        out.notes.append("no values in the reference: not tested")
        return out
    if win.absent:
        out.notes.append("column absent from the current data: not tested")
        return out
    if win.values == 0:
        out.notes.append("current window is empty: not tested" if win.rows == 0 else
                         "no values in the current window (all missing): not tested")
        return out
    ref_bins, cur_bins, labels = _binned(ref, win, test)
    _new_category_notes(ref, win, out)
    if test == "ks":
        _ks(ref, win, out, exact)
    elif test == "wasserstein":
        _wasserstein(ref, win, out, exact)
    elif test == "chisquare":
        chi2, out.statistic = st.chi_square_homogeneity(ref_bins, cur_bins)
        out.details["chi2"] = chi2
    elif test == "jensenshannon":
        out.statistic = st.jensen_shannon(ref_bins, cur_bins)
    if ref.kind == "numeric":
        ref_psi, cur_psi, _ = _numeric_bins(ref, win, ref.numeric.psi_cuts)  # type: ignore[union-attr]
    else:
        ref_psi, cur_psi = ref_bins, cur_bins
    out.psi = st.psi(ref_psi, cur_psi)
    out.psi_significant = out.psi >= psi_threshold
    if test == "psi":
        out.statistic = out.psi
    assert out.statistic is not None
    out.drifted = st.is_drift(test, out.statistic, threshold)
    out.score = st.severity(test, out.statistic, threshold)
    out.distribution = _distribution(ref, win, labels, ref_bins, cur_bins)
    return out


def _missing_notes(ref: ColumnReference, win: ColumnWindow, out: ColumnDrift) -> None:
    cur_share = out.current_missing_share
    if ref.missing_share > 0 or (cur_share or 0) > 0:
        current = f"{cur_share:.1%}" if cur_share is not None else "-"
        out.notes.append(f"missing: {ref.missing_share:.1%} in reference, {current} in current")
    if win.not_numeric:
        out.notes.append(f"{win.not_numeric:,} non-numeric current values treated as missing")
    if win.nonfinite or ref.nonfinite:
        out.notes.append(f"infinite values ignored: {ref.nonfinite:,} in reference, "
                         f"{win.nonfinite:,} in current")


def _new_category_notes(ref: ColumnReference, win: ColumnWindow, out: ColumnDrift) -> None:
    cats = win.categories
    if cats is None or (cats.new.empty and not cats.overflow):
        return
    new = cats.new
    if ref.categories is not None and ref.categories.known:
        new = new[~new.index.isin(list(ref.categories.known))]
    ranked = new.sort_values(ascending=False, kind="stable")
    out.new_categories = [_label(k, ref.kind) for k in ranked.index[:SHOWN_CATEGORIES]]
    count = len(ranked) + (1 if cats.overflow else 0)
    if not count:
        return
    share = (int(ranked.sum()) + cats.overflow) / max(cats.n, 1)
    shown = ", ".join(repr(k) for k in out.new_categories[:5])
    more = f" (+{count - 5} more)" if count > 5 else ""
    what = "values" if ref.kind == "discrete" else "categories"
    out.notes.append(f"new {what} in current: {shown}{more}, {share:.1%} of values")


def _ks(ref: ColumnReference, win: ColumnWindow, out: ColumnDrift, exact: bool) -> None:
    num, cur = ref.numeric, win.numeric
    assert num is not None and cur is not None
    n_ref, n_cur = len(num.values), cur.n
    if exact:
        d = st.ks_statistic_sorted(num.values, cur.sorted_values())
    else:
        diff_le = np.abs(num.le / n_ref - cur.le / n_cur)
        diff_lt = np.abs(num.lt / n_ref - cur.lt / n_cur)
        d = float(max(diff_le.max(initial=0.0), diff_lt.max(initial=0.0)))
        if not num.exact_edges:
            ref_inside = (num.lt[1:] - num.le[:-1]) / n_ref  # strictly between two edges
            cur_inside = (cur.lt[1:] - cur.le[:-1]) / n_cur
            slack = float(np.minimum(ref_inside, cur_inside).max(initial=0.0))
            out.bounds = (st.ks_pvalue(min(d + slack, 1.0), n_ref, n_cur),
                          st.ks_pvalue(d, n_ref, n_cur))
            out.details["ks_d_bound"] = slack
    out.details["ks_d"] = d
    out.statistic = st.ks_pvalue(d, n_ref, n_cur)


def _wasserstein(ref: ColumnReference, win: ColumnWindow, out: ColumnDrift,
                 exact: bool) -> None:
    num, cur = ref.numeric, win.numeric
    assert num is not None and cur is not None
    if exact:
        distance = st.wasserstein_sorted(num.values, cur.sorted_values())
    else:
        values, weights, bound = cur.point_masses()
        distance = st.wasserstein_weighted(num.values, np.ones(len(num.values)), values,
                                           weights)
        normed_bound = st.normed_wasserstein(bound, num.std)
        normed = st.normed_wasserstein(distance, num.std)
        out.bounds = (max(normed - normed_bound, 0.0), normed + normed_bound)
    out.details["distance"] = distance
    out.details["reference_std"] = num.std
    out.statistic = st.normed_wasserstein(distance, num.std)


def _numeric_bins(ref: ColumnReference, win: ColumnWindow,
                  cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    num, cur = ref.numeric, win.numeric
    assert num is not None and cur is not None
    at = np.searchsorted(num.edges, cuts)  # cuts are edges: exact positions
    ref_bins = counts_on_cuts(num.le[at], len(num.values))
    cur_bins = counts_on_cuts(cur.le[at], cur.n)
    bounds = ["-inf", *(f"{c:.4g}" for c in cuts), "inf"]
    labels = [f"({bounds[i]}, {bounds[i + 1]}]" for i in range(len(bounds) - 1)]
    return ref_bins, cur_bins, labels


def _binned(ref: ColumnReference, win: ColumnWindow,
            test: str) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Counts per category (reference ones, then new ones) or per quantile bin."""
    if ref.kind == "numeric":
        assert ref.numeric is not None
        return _numeric_bins(ref, win, ref.numeric.test_cuts)
    assert ref.categories is not None and win.categories is not None
    cats = win.categories
    keys = [*ref.categories.keys, *cats.new.index]
    ref_bins = np.concatenate([ref.categories.counts, np.zeros(len(cats.new), np.int64)])
    cur_bins = np.concatenate([cats.counts, cats.new.to_numpy(dtype=np.int64)])
    if cats.overflow:
        keys.append("(other new)")
        ref_bins = np.append(ref_bins, 0)
        cur_bins = np.append(cur_bins, cats.overflow)
    return ref_bins, cur_bins, keys


def _label(key: Any, kind: str) -> str:
    if kind == "discrete" and isinstance(key, (float, np.floating)):
        return f"{key:g}"
    return str(key)


def _distribution(ref: ColumnReference, win: ColumnWindow, keys: list[Any],
                  ref_bins: np.ndarray, cur_bins: np.ndarray) -> dict[str, Any]:
    """What the figure (and a UI) draws: shares per plot bin or per top category."""
    if ref.kind == "numeric":
        num, cur = ref.numeric, win.numeric
        assert num is not None and cur is not None
        ref_le = np.searchsorted(num.values, num.plot_edges[1:-1], side="right")
        ref_counts = counts_on_cuts(ref_le, len(num.values))
        cur_counts = counts_on_cuts(cur.plot_le, cur.n)
        return {"type": "histogram", "edges": num.plot_edges.tolist(),
                "reference": (ref_counts / max(len(num.values), 1)).tolist(),
                "current": (cur_counts / max(cur.n, 1)).tolist(),
                "note": "values beyond the outer edges are counted in the outer bins"}
    ref_share = ref_bins / max(ref_bins.sum(), 1)
    cur_share = cur_bins / max(cur_bins.sum(), 1)
    order = np.argsort(-np.maximum(ref_share, cur_share), kind="stable")
    top, rest = order[:SHOWN_CATEGORIES], order[SHOWN_CATEGORIES:]
    labels = [_label(keys[i], ref.kind) for i in top]
    ref_out, cur_out = ref_share[top].tolist(), cur_share[top].tolist()
    if len(rest):
        labels.append(f"(other {len(rest)})")
        ref_out.append(float(ref_share[rest].sum()))
        cur_out.append(float(cur_share[rest].sum()))
    return {"type": "categories", "labels": labels, "reference": ref_out, "current": cur_out}
