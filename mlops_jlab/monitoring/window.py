"""The current window, summarised chunk by chunk on grids fixed by the reference.

Memory stays bounded whatever the window's size: a chunk is reduced to these
summaries and dropped. Per numeric column, on the reference edges ``e_0 < ... < e_E``
(:class:`~.reference.NumericPart`): the counts of values ``<= e_i`` and ``< e_i``, the
sums of those values, the total count and sum, and counts on the plot grid; per
categorical (or discrete) column: counts per reference category plus counts of new
categories (at most :data:`MAX_NEW_CATEGORIES` tracked one by one). All of it adds up
across chunks, so the order and size of chunks do not change the result.

With ``keep=True`` (the in-memory, exact mode) a numeric window also keeps its sorted
values so that KS and Wasserstein run on the full samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .reference import CategoryPart, ColumnReference, NumericPart, category_counts, numeric_values

#: New categories counted one by one; rarer ones beyond this are pooled (``overflow``).
MAX_NEW_CATEGORIES = 1000


class NumericWindow:
    """Cumulative counts and sums of the current values at the reference edges."""

    def __init__(self, ref: NumericPart, keep: bool) -> None:
        size = len(ref.edges)
        self.ref = ref
        self.keep = keep
        self.n = 0
        self.total = 0.0
        self.le = np.zeros(size, np.int64)
        self.lt = np.zeros(size, np.int64)
        self.sum_le = np.zeros(size)
        self.sum_lt = np.zeros(size)
        self.plot_le = np.zeros(len(ref.plot_edges) - 2, np.int64)
        self._parts: list[np.ndarray] = []

    def add(self, finite_sorted: np.ndarray) -> None:
        """Count one chunk's finite values, given sorted."""
        if len(finite_sorted) == 0:
            return
        edges = self.ref.edges
        le = np.searchsorted(finite_sorted, edges, side="right")
        lt = np.searchsorted(finite_sorted, edges, side="left")
        self.le += le
        self.lt += lt
        self.plot_le += np.searchsorted(finite_sorted, self.ref.plot_edges[1:-1], side="right")
        self.n += len(finite_sorted)
        if self.keep:
            self._parts.append(finite_sorted)
        else:
            cumulative = np.concatenate([[0.0], np.cumsum(finite_sorted)])
            self.sum_le += cumulative[le]
            self.sum_lt += cumulative[lt]
            self.total += float(cumulative[-1])

    def sorted_values(self) -> np.ndarray:
        """All kept values, sorted (only with ``keep=True``)."""
        if not self._parts:
            return np.empty(0)
        if len(self._parts) > 1:
            self._parts = [np.sort(np.concatenate(self._parts))]
        return self._parts[0]

    def point_masses(self) -> tuple[np.ndarray, np.ndarray, float]:
        """The window as weighted points, and the Wasserstein error that costs.

        Values equal to an edge sit exactly there; the values strictly between two
        edges (and below the first or above the last) are moved to their mean. Moving
        mass within a gap ``(a, b)`` to its mean ``mu`` shifts it by at most
        ``2 (mu - a)(b - mu) / (b - a)`` on average, so the Wasserstein-1 distance to
        any distribution changes by at most the count-weighted sum of that over the
        interior gaps (the returned bound, in data units). In the two tails the
        reference CDF is flat (0 or 1), where the mean preserves the integral exactly.
        """
        edges = self.ref.edges
        n = self.n
        ties = self.le - self.lt
        gap_count = np.concatenate([[self.lt[0]], self.lt[1:] - self.le[:-1], [n - self.le[-1]]])
        gap_sum = np.concatenate([[self.sum_lt[0]], self.sum_lt[1:] - self.sum_le[:-1],
                                  [self.total - self.sum_le[-1]]])
        lower = np.concatenate([[-np.inf], edges])
        upper = np.concatenate([edges, [np.inf]])
        filled = gap_count > 0
        means = np.zeros(len(gap_count))
        means[filled] = np.clip(gap_sum[filled] / gap_count[filled], lower[filled],
                                upper[filled])
        inner = filled.copy()
        inner[[0, -1]] = False
        width = upper[inner] - lower[inner]
        spread = np.divide(2 * (means[inner] - lower[inner]) * (upper[inner] - means[inner]),
                           width, out=np.zeros(int(inner.sum())), where=width > 0)
        bound = float(gap_count[inner] @ spread / n) if n else 0.0
        values = np.concatenate([edges[ties > 0], means[filled]])
        weights = np.concatenate([ties[ties > 0], gap_count[filled]]).astype(np.float64)
        return values, weights, bound


class CategoryWindow:
    """Counts per reference category, plus new categories (pooled past a cap)."""

    def __init__(self, ref: CategoryPart) -> None:
        self.ref = ref
        self.counts = np.zeros(len(ref.keys), np.int64)
        self.new = pd.Series(dtype=np.int64)
        self.overflow = 0  # values in new categories pooled past MAX_NEW_CATEGORIES

    def add(self, counts: pd.Series) -> None:
        """Add one chunk's counts per category (index: category keys)."""
        if len(counts) == 0:
            return
        pos = self.ref.keys.get_indexer(counts.index)
        hit = pos >= 0
        values = counts.to_numpy(dtype=np.int64)
        self.counts[pos[hit]] += values[hit]
        if hit.all():
            return
        fresh = pd.Series(values[~hit], index=counts.index[~hit])
        self.new = fresh if self.new.empty else self.new.add(fresh, fill_value=0).astype(np.int64)
        if len(self.new) > MAX_NEW_CATEGORIES:
            ranked = self.new.sort_values(ascending=False, kind="stable")
            self.overflow += int(ranked.iloc[MAX_NEW_CATEGORIES:].sum())
            self.new = ranked.iloc[:MAX_NEW_CATEGORIES]

    @property
    def n(self) -> int:
        """Values counted (missing values excluded)."""
        return int(self.counts.sum() + self.new.sum() + self.overflow)


def _runs(finite_sorted: np.ndarray) -> pd.Series:
    """Counts of each distinct value of a sorted array, in one linear pass."""
    if len(finite_sorted) == 0:
        return pd.Series(dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], finite_sorted[1:] != finite_sorted[:-1]]))
    counts = np.diff(np.concatenate([starts, [len(finite_sorted)]]))
    return pd.Series(counts, index=pd.Index(finite_sorted[starts]))


class ColumnWindow:
    """One column of the current window: missing values plus numeric and/or category counts."""

    def __init__(self, ref: ColumnReference, keep: bool) -> None:
        self.ref = ref
        self.rows = 0
        self.missing = 0
        self.nonfinite = 0
        self.not_numeric = 0
        self.absent = True  # the column never appeared in a chunk
        self.numeric = NumericWindow(ref.numeric, keep) if ref.numeric is not None else None
        self.categories = CategoryWindow(ref.categories) if ref.categories is not None else None

    def add(self, series: pd.Series | None, rows: int) -> None:
        """Count one chunk of this column (``None``: the chunk lacks the column)."""
        self.rows += rows
        if series is None:
            self.missing += rows
            return
        self.absent = False
        if self.numeric is None:
            assert self.categories is not None
            self.missing += int(series.isna().sum())
            self.categories.add(category_counts(series, discrete=False))
            return
        raw, bad = numeric_values(series)
        finite = np.isfinite(raw)
        nan = int(np.isnan(raw).sum())
        self.missing += nan
        self.not_numeric += bad
        self.nonfinite += len(raw) - nan - int(finite.sum())
        values = np.sort(raw[finite])
        self.numeric.add(values)
        if self.categories is not None:
            self.categories.add(_runs(values))

    @property
    def values(self) -> int:
        """Non-missing finite values counted."""
        if self.numeric is not None:
            return self.numeric.n
        return self.categories.n if self.categories is not None else 0
