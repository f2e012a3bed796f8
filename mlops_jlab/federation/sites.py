"""Sites (the parties of a federation) and non-IID partitions of a dataset.

A :class:`Site` is a name plus its own features and labels. The client built from it
keeps them; only parameters and counts ever leave (see :mod:`.messages`).
:func:`split_by_column` cuts one table into sites by the values, or quantile bins, of a
column, which gives each site a different slice of the population (non-IID).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInput

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")


@dataclass(frozen=True, repr=False)
class Site:
    """One party of a federation: ``X`` (n rows x features) and ``y`` (n labels)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    columns: tuple[str, ...]

    def __repr__(self) -> str:
        return f"<Site {self.name!r}: {len(self.y)} rows x {self.X.shape[1]} features>"

    @property
    def rows(self) -> int:
        return len(self.y)


def check_site_name(name: object) -> str:
    """A site name usable inside metric keys (``site.<name>.accuracy``)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(f"site name {name!r} must be 1-100 letters, digits, '_', '.' or "
                           "'-' (it becomes part of metric keys)")
    return name


def _numeric(frame: pd.DataFrame, site: str) -> np.ndarray:
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise InvalidInput(f"site {site!r}: feature column(s) {bad[:5]} are not numeric; "
                           "encode them before federating")
    values = frame.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise InvalidInput(f"site {site!r}: features hold NaN or infinite values")
    return values


def _site(name: str, data: Any, target: str | None) -> Site:
    check_site_name(name)
    if isinstance(data, pd.DataFrame):
        if target is None:
            raise InvalidInput(f"site {name!r} is a DataFrame: pass target= (its label "
                               "column), or give (X, y) pairs")
        if target not in data.columns:
            raise InvalidInput(f"site {name!r} has no target column {target!r}")
        features = data.drop(columns=[target])
        y = data[target].to_numpy()
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        features, y = data
        y = np.asarray(y)
        if not isinstance(features, pd.DataFrame):
            array = np.asarray(features)
            if array.ndim != 2:
                raise InvalidInput(f"site {name!r}: X must be 2-D, got shape {array.shape}")
            features = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    else:
        raise InvalidInput(f"site {name!r} must be a DataFrame (with target=) or an (X, y) "
                           f"pair, got {type(data).__name__}")
    if y.ndim != 1:
        raise InvalidInput(f"site {name!r}: y must be one label per row")
    if len(features) == 0:
        raise InvalidInput(f"site {name!r} has no rows")
    if len(features) != len(y):
        raise InvalidInput(f"site {name!r}: X has {len(features)} rows but y has {len(y)}")
    if pd.isna(y).any():
        raise InvalidInput(f"site {name!r}: y holds missing labels")
    return Site(name=name, X=_numeric(features, name), y=y,
                columns=tuple(str(c) for c in features.columns))


def build_sites(sites: Mapping[str, Any], target: str | None = None) -> list[Site]:
    """Check and convert the user's ``sites`` mapping (name → DataFrame, or name →
    (X, y)): at least two sites, each with rows, all with the same feature columns."""
    if not isinstance(sites, Mapping):
        raise InvalidInput("sites must be a mapping of site name → DataFrame or (X, y)")
    if len(sites) < 2:
        raise InvalidInput(f"a federation needs at least two sites, got {len(sites)}")
    built = [_site(name, data, target) for name, data in sites.items()]
    first = built[0]
    for site in built[1:]:
        if site.columns != first.columns:
            missing = sorted(set(first.columns) - set(site.columns))
            extra = sorted(set(site.columns) - set(first.columns))
            detail = (f"missing {missing[:5]}, extra {extra[:5]}" if missing or extra
                      else "same columns in another order")
            raise InvalidInput(f"site {site.name!r} has different columns from "
                               f"{first.name!r}: {detail}")
    return built


def _slug(value: object) -> str:
    text = re.sub(r"[^A-Za-z0-9_.\-]+", "_", str(value)).strip("_")
    return text or "blank"


def split_by_column(data: pd.DataFrame, column: str, target: str | None = None, *,
                    sites: int | None = None, drop: bool = False,
                    names: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """Split ``data`` into sites by ``column``: one site per value when the column has
    at most ``sites`` (default 3) distinct values or is not numeric, else ``sites``
    quantile bins of it. A column correlated with the label gives each site a different
    label mix (non-IID), like hospitals serving different populations.

    ``target`` is only checked (it must be another column); ``drop=True`` removes the
    split column from the sites' features. Returns name → DataFrame, ordered by the
    column (bins named ``<column>-q1``, ``-q2``…, values ``<column>-<value>``);
    ``names`` overrides the names.
    """
    if not isinstance(data, pd.DataFrame):
        raise InvalidInput("split_by_column takes a DataFrame")
    if column not in data.columns:
        raise InvalidInput(f"no column {column!r} to split by; columns: "
                           f"{list(data.columns)[:10]}")
    if target is not None and (target not in data.columns or target == column):
        raise InvalidInput(f"target {target!r} must be another column of the data")
    count = 3 if sites is None else sites
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise InvalidInput(f"sites must be an integer >= 2, got {sites!r}")
    values = data[column]
    distinct = values.dropna().unique()
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if values.isna().any():
        raise InvalidInput(f"column {column!r} has missing values; fill them to split by it")
    if not numeric or len(distinct) <= count:
        order = sorted(distinct, key=lambda v: (str(type(v)), v))
        groups = [(f"{_slug(column)}-{_slug(v)}", data[values == v]) for v in order]
    else:
        bins = pd.qcut(values, q=count, labels=False, duplicates="drop")
        groups = [(f"{_slug(column)}-q{i + 1}", data[bins == i])
                  for i in sorted(bins.unique())]
    if len(groups) < 2:
        raise InvalidInput(f"column {column!r} gives only one site")
    if names is not None:
        if len(names) != len(groups):
            raise InvalidInput(f"{len(names)} name(s) for {len(groups)} site(s)")
        groups = [(n, g) for n, (_, g) in zip(names, groups, strict=True)]
    out: dict[str, pd.DataFrame] = {}
    for name, frame in groups:
        check_site_name(name)
        out[name] = (frame.drop(columns=[column]) if drop else frame).reset_index(drop=True)
    return out


def label_distribution(sites: Mapping[str, pd.DataFrame], target: str) -> pd.DataFrame:
    """Rows per label and site (sites as rows), to show how non-IID a split is."""
    counts = {name: frame[target].value_counts() for name, frame in sites.items()}
    table = pd.DataFrame(counts).T.fillna(0).astype(int)
    table = table.reindex(columns=sorted(table.columns))
    table.columns.name = target
    table["rows"] = table.sum(axis=1)
    return table
