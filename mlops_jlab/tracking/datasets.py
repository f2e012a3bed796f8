"""Dataset versions: content fingerprint, schema and a bounded column profile.

The profile (per-column statistics plus a bounded sample) is what monitoring later
uses as the drift reference, so it is computed once, when the dataset is logged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInput

SAMPLE_ROWS = 1000
TOP_VALUES = 20
HIST_BINS = 20


@dataclass
class DatasetProfile:
    """What is recorded about one dataset version."""

    name: str
    fingerprint: str
    rows: int
    schema: list[dict[str, str]]
    profile: dict[str, Any] = field(default_factory=dict)


def as_frame(data: Any) -> pd.DataFrame:
    """A DataFrame view of a DataFrame, Series, numpy array or list of records."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame(name=data.name if data.name is not None else "value")
    if isinstance(data, np.ndarray):
        if data.ndim == 1:
            return pd.DataFrame({"value": data})
        if data.ndim == 2:
            return pd.DataFrame(data, columns=[f"x{i}" for i in range(data.shape[1])])
        raise InvalidInput(f"cannot log a {data.ndim}-dimensional array as a dataset")
    if isinstance(data, (list, tuple)):
        return pd.DataFrame(list(data))
    raise InvalidInput(f"cannot log a {type(data).__name__} as a dataset: "
                       "pass a pandas DataFrame, Series or numpy array")


def fingerprint(df: pd.DataFrame) -> str:
    """sha256 over column names, dtypes and pandas' per-row content hashes."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, df.columns)).encode())
    digest.update("\x1f".join(map(str, df.dtypes)).encode())
    try:
        hashed = pd.util.hash_pandas_object(df, index=False).to_numpy()
    except TypeError:  # unhashable cells (lists, dicts): hash their text form
        hashed = pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy()
    digest.update(hashed.tobytes())
    return digest.hexdigest()


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if not np.isfinite(number) else number


def column_profile(series: pd.Series) -> dict[str, Any]:
    """Statistics of one column: counts, and numeric moments or top categories."""
    missing = int(series.isna().sum())
    present = series.dropna()
    out: dict[str, Any] = {
        "dtype": str(series.dtype),
        "count": len(series),
        "missing": missing,
        "distinct": int(present.nunique()) if len(present) else 0,
    }
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = present.to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        out["kind"] = "numeric"
        if len(values):
            q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
            counts, edges = np.histogram(values, bins=HIST_BINS)
            out.update({
                "mean": _number(values.mean()), "std": _number(values.std(ddof=1))
                if len(values) > 1 else 0.0, "min": _number(values.min()),
                "p05": _number(q[0]), "p25": _number(q[1]), "p50": _number(q[2]),
                "p75": _number(q[3]), "p95": _number(q[4]), "max": _number(values.max()),
                "histogram": {"counts": counts.tolist(), "edges": edges.tolist()},
            })
    else:
        out["kind"] = "categorical"
        top = present.astype(str).value_counts().head(TOP_VALUES)
        out["top"] = [{"value": k, "count": int(v)} for k, v in top.items()]
    return out


def profile_dataframe(data: Any, name: str) -> DatasetProfile:
    """Fingerprint, schema and profile (with a bounded sample) of ``data``."""
    df = as_frame(data)
    if not all(isinstance(c, str) for c in df.columns):
        df = df.rename(columns=str)  # a renamed view: the caller's frame is untouched
    sample = df.sample(n=SAMPLE_ROWS, random_state=0) if len(df) > SAMPLE_ROWS else df
    sample_json = sample.astype(object).where(sample.notna(), None)
    return DatasetProfile(
        name=name,
        fingerprint=fingerprint(df),
        rows=len(df),
        schema=[{"name": str(c), "dtype": str(t)} for c, t in df.dtypes.items()],
        profile={
            "columns": {str(c): column_profile(df[c]) for c in df.columns},
            "sample": {"columns": [str(c) for c in sample.columns],
                       "data": [[_jsonable(v) for v in row]
                                for row in sample_json.itertuples(index=False, name=None)]},
        },
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return _number(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)
