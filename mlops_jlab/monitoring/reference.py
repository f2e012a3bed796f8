"""The drift reference: per-column summaries prepared once and compared with many windows.

A reference comes from a DataFrame (the training data) or from a dataset profile as
:mod:`mlops_jlab.tracking.datasets` records it (per-column statistics plus a sample of
up to 1,000 rows): the tests then run on the sample, while the profile's full-data
statistics supply the column kinds, distinct counts, missing shares, the standard
deviation and the categories known beyond the sample.

Everything the current window is later counted against derives from the reference
only (bin edges, cut points, categories), which is what lets the window be streamed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InvalidInput
from .workers import map_columns

Kind = Literal["numeric", "discrete", "categorical"]
"""``numeric``: more than 5 distinct values; ``discrete``: numeric with at most 5;
``categorical``: anything else (strings, booleans, categories)."""

DISCRETE_MAX_DISTINCT = 5
#: Up to this many distinct reference values, every one is a bin edge (streamed KS exact).
MAX_EXACT_EDGES = 4096
#: Above it, the edges are the reference quantiles at these many equal steps.
QUANTILE_STEPS = 4000
#: Quantile bins for the PSI of a numeric column (deciles, the usual PSI convention).
PSI_BINS = 10
#: Quantile bins for chi-square / Jensen-Shannon when overridden on a numeric column.
TEST_BINS = 20
#: Equal-width bins of the distribution plots.
PLOT_BINS = 40


@dataclass
class NumericPart:
    """Sorted reference values and the grids the current window is counted on.

    ``edges`` are every distinct reference value (``exact_edges``) or, past
    :data:`MAX_EXACT_EDGES`, the reference quantiles at ``k / QUANTILE_STEPS``; they
    always contain the minimum, the maximum and every cut point. ``le``/``lt`` count
    reference values ``<=`` / ``<`` each edge.
    """

    values: np.ndarray
    std: float
    edges: np.ndarray
    le: np.ndarray
    lt: np.ndarray
    exact_edges: bool
    psi_cuts: np.ndarray
    test_cuts: np.ndarray
    plot_edges: np.ndarray


@dataclass
class CategoryPart:
    """Reference categories (strings, or floats for discrete numeric columns) and counts."""

    keys: pd.Index
    counts: np.ndarray
    known: frozenset[Any] = frozenset()  # seen in the full data (profile) beyond the sample


@dataclass
class ColumnReference:
    """Everything about one reference column that a drift comparison needs."""

    name: str
    kind: Kind
    rows: int
    missing: int
    distinct: int
    missing_share: float
    numeric: NumericPart | None = None
    categories: CategoryPart | None = None
    nonfinite: int = 0

    @property
    def tested_rows(self) -> int:
        """Non-null values the tests run on (decides small- versus large-sample tests)."""
        if self.numeric is not None:
            return len(self.numeric.values)
        return int(self.categories.counts.sum()) if self.categories is not None else 0


@dataclass
class DriftReference:
    """Prepared reference for drift comparisons; build it once, compare many windows."""

    columns: dict[str, ColumnReference]
    rows: int
    source: str = "dataframe"
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, columns: Sequence[str] | None = None,
                   kinds: Mapping[str, str] | None = None,
                   workers: int | None = None) -> DriftReference:
        """Reference from a DataFrame; ``kinds`` forces ``numeric``/``categorical`` per column.

        ``workers``: threads preparing columns in parallel (default: the CPUs, up to 4).
        """
        if not isinstance(frame, pd.DataFrame):
            raise InvalidInput(f"the drift reference must be a DataFrame or a dataset profile, "
                               f"not {type(frame).__name__}")
        names = _select(frame, columns)
        forced = _check_kinds(kinds, names)
        by_name = {str(c): c for c in frame.columns}
        series = [frame[by_name[name]] for name in names]
        prepared = map_columns(
            lambda pair: column_reference(pair[1], pair[0], forced.get(pair[0])),
            list(zip(names, series, strict=True)), values=len(frame) * len(names),
            workers=workers)
        return cls(columns=dict(zip(names, prepared, strict=True)), rows=len(frame))

    @classmethod
    def from_profile(cls, profile: Any, *, columns: Sequence[str] | None = None,
                     kinds: Mapping[str, str] | None = None) -> DriftReference:
        """Reference from a dataset profile: its sample, enriched with its full statistics.

        Accepts a :class:`~mlops_jlab.tracking.datasets.DatasetProfile`, the dataset
        record the tracking service returns (with a ``profile`` key), or the profile
        dict itself (``{"columns": ..., "sample": ...}``).
        """
        body, rows, name = _profile_body(profile)
        sample = body.get("sample") or {}
        if not sample.get("columns"):
            raise InvalidInput("the dataset profile has no sample to use as drift reference")
        frame = pd.DataFrame(sample.get("data") or [], columns=list(sample["columns"]))
        stats: dict[str, Any] = body.get("columns") or {}
        names = _select(frame, columns)
        forced = _check_kinds(kinds, names)
        out: dict[str, ColumnReference] = {}
        for col in names:
            info = stats.get(col) or {}
            kind = forced.get(col) or info.get("kind")
            series = frame[col]
            if kind == "numeric":
                series = pd.to_numeric(series, errors="coerce")
            out[col] = column_reference(series, col, kind if kind in ("numeric", "categorical")
                                        else None, profile_stats=info)
        return cls(columns=out, rows=int(rows if rows is not None else len(frame)),
                   source="profile", details={"dataset": name, "sample_rows": len(frame)})

    @classmethod
    def coerce(cls, reference: Any, *, columns: Sequence[str] | None = None,
               kinds: Mapping[str, str] | None = None,
               workers: int | None = None) -> DriftReference:
        """A :class:`DriftReference` from a DataFrame, a dataset profile or a reference."""
        if isinstance(reference, DriftReference):
            if columns is not None:
                missing = [c for c in columns if c not in reference.columns]
                if missing:
                    raise InvalidInput(f"columns not in the drift reference: {missing}")
                return cls(columns={c: reference.columns[c] for c in columns},
                           rows=reference.rows, source=reference.source,
                           details=reference.details)
            return reference
        if isinstance(reference, pd.DataFrame):
            return cls.from_frame(reference, columns=columns, kinds=kinds, workers=workers)
        return cls.from_profile(reference, columns=columns, kinds=kinds)


def _profile_body(profile: Any) -> tuple[dict[str, Any], int | None, str | None]:
    inner = getattr(profile, "profile", None)
    if isinstance(inner, dict):  # DatasetProfile
        return inner, getattr(profile, "rows", None), getattr(profile, "name", None)
    if isinstance(profile, Mapping):
        if isinstance(profile.get("profile"), Mapping):  # dataset record
            return dict(profile["profile"]), profile.get("rows"), profile.get("name")
        if "sample" in profile or "columns" in profile:
            return dict(profile), None, None
    raise InvalidInput(f"the drift reference must be a DataFrame or a dataset profile, "
                       f"not {type(profile).__name__}")


def _select(frame: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    names = [str(c) for c in frame.columns]
    if columns is None:
        return names
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise InvalidInput(f"columns not in the drift reference: {unknown}")
    return list(columns)


def _check_kinds(kinds: Mapping[str, str] | None, names: Iterable[str]) -> dict[str, str]:
    forced = dict(kinds or {})
    known = set(names)
    for col, kind in forced.items():
        if kind not in ("numeric", "categorical"):
            raise InvalidInput(f"kind of column {col!r} must be 'numeric' or 'categorical', "
                               f"not {kind!r}")
        if col not in known:
            raise InvalidInput(f"kinds names a column not in the drift reference: {col!r}")
    return forced


def is_numeric_series(series: pd.Series) -> bool:
    """Numbers (not booleans) and datetimes are numeric; everything else is categorical."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype))


def numeric_values(series: pd.Series) -> tuple[np.ndarray, int]:
    """Float64 values of a column (NaN where missing) and how many were not numbers.

    Datetimes become seconds since the epoch; text is parsed and what fails to parse
    is counted and treated as missing.
    """
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        raw = series.to_numpy(dtype="datetime64[ns]")
        out = raw.astype(np.int64).astype(np.float64) / 1e9
        out[np.isnat(raw)] = np.nan
        return out, 0
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan), 0
    parsed = pd.to_numeric(series, errors="coerce")
    bad = int(parsed.isna().sum() - series.isna().sum())
    return parsed.to_numpy(dtype=np.float64, na_value=np.nan), bad


def category_counts(series: pd.Series, discrete: bool) -> pd.Series:
    """Counts per category (NaN dropped), keyed by ``str(value)`` or by float for discrete."""
    counts = series.value_counts(dropna=True, sort=False)
    counts = counts[counts > 0]
    index = counts.index
    keys = index.astype(np.float64) if discrete else (
        index if index.dtype == object and _all_str(index) else index.astype(str))
    out = pd.Series(counts.to_numpy(dtype=np.int64), index=keys)
    if out.index.has_duplicates:  # distinct values with one text form, e.g. 1 and "1"
        out = out.groupby(level=0, sort=False).sum()
    return out


def _all_str(index: pd.Index) -> bool:
    return bool(pd.api.types.infer_dtype(index, skipna=False) == "string")


def column_reference(series: pd.Series, name: str, forced_kind: str | None = None, *,
                     profile_stats: Mapping[str, Any] | None = None) -> ColumnReference:
    """Summaries of one reference column (``profile_stats``: full-data statistics, if any)."""
    info = profile_stats or {}
    rows = len(series)
    numeric = forced_kind == "numeric" or (forced_kind is None and is_numeric_series(series))
    if not numeric:
        counts = category_counts(series, discrete=False)
        missing = int(series.isna().sum())
        known = frozenset(str(t["value"]) for t in info.get("top") or [] if "value" in t)
        return ColumnReference(
            name=name, kind="categorical", rows=rows, missing=missing,
            distinct=int(info.get("distinct", len(counts))),
            missing_share=_missing_share(info, missing, rows),
            categories=CategoryPart(keys=counts.index, counts=counts.to_numpy(), known=known))
    raw, _bad = numeric_values(series)
    finite = np.isfinite(raw)
    values = np.sort(raw[finite])
    missing = int(np.isnan(raw).sum())
    nonfinite = int(len(raw) - finite.sum() - missing)
    distinct_here = int(1 + np.count_nonzero(values[1:] != values[:-1])) if len(values) else 0
    distinct = int(info.get("distinct", distinct_here))
    profile_std = info.get("std")
    std = float(profile_std) if profile_std is not None else (
        float(values.std()) if len(values) else 0.0)
    part = numeric_part(values, std)
    kind: Kind = "numeric" if distinct > DISCRETE_MAX_DISTINCT else "discrete"
    categories = None
    if kind == "discrete":
        keys, counts = np.unique(values, return_counts=True)
        categories = CategoryPart(keys=pd.Index(keys.astype(np.float64)), counts=counts)
    return ColumnReference(name=name, kind=kind, rows=rows, missing=missing, distinct=distinct,
                           missing_share=_missing_share(info, missing, rows), numeric=part,
                           categories=categories, nonfinite=nonfinite)


def _missing_share(info: Mapping[str, Any], missing: int, rows: int) -> float:
    if info.get("count"):
        return float(info.get("missing", 0)) / float(info["count"])
    return missing / rows if rows else 0.0


def _at_levels(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantiles of sorted ``values`` by the inverted CDF (always actual data values)."""
    n = len(values)
    idx = np.clip(np.ceil(levels * n - 1e-9).astype(np.int64) - 1, 0, n - 1)
    return values[idx]


def numeric_part(values: np.ndarray, std: float) -> NumericPart:
    """Edges, cut points and plot grid of sorted finite reference values."""
    if len(values) == 0:
        empty = np.empty(0)
        return NumericPart(values=values, std=std, edges=empty, le=np.empty(0, np.int64),
                           lt=np.empty(0, np.int64), exact_edges=True, psi_cuts=empty,
                           test_cuts=empty, plot_edges=np.linspace(-0.5, 0.5, PLOT_BINS + 1))
    psi_cuts = np.unique(_at_levels(values, np.arange(1, PSI_BINS) / PSI_BINS))
    test_cuts = np.unique(_at_levels(values, np.arange(1, TEST_BINS) / TEST_BINS))
    distinct = values[np.concatenate([[True], values[1:] != values[:-1]])]
    if len(distinct) <= MAX_EXACT_EDGES:
        edges, exact = distinct, True
    else:
        grid = _at_levels(values, np.arange(QUANTILE_STEPS + 1) / QUANTILE_STEPS)
        edges, exact = np.unique(np.concatenate([grid, psi_cuts, test_cuts])), False
    lo, hi = _at_levels(values, np.array([0.001, 0.999]))
    if hi <= lo:
        lo, hi = values[0], values[-1]
    pad = 0.05 * (hi - lo) if hi > lo else 0.5
    plot_edges = np.linspace(lo - pad, hi + pad, PLOT_BINS + 1)
    return NumericPart(values=values, std=std, edges=edges,
                       le=np.searchsorted(values, edges, side="right"),
                       lt=np.searchsorted(values, edges, side="left"), exact_edges=exact,
                       psi_cuts=psi_cuts, test_cuts=test_cuts, plot_edges=plot_edges)


def counts_on_cuts(le_at_cuts: np.ndarray, total: int) -> np.ndarray:
    """Counts per bin ``(-inf, c1], (c1, c2], ..., (c_last, inf)`` from cumulative counts."""
    return np.diff(np.concatenate([[0], le_at_cuts, [total]])).astype(np.int64)
