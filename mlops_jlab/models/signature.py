"""Model signatures: input columns with dtypes (and output), inferred from data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Signature:
    """Input columns (name, dtype) and, when known, the output's dtype and shape."""

    inputs: list[dict[str, str]]
    outputs: dict[str, Any] = field(default_factory=dict)
    input_kind: str = "dataframe"  # dataframe | ndarray

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def infer_signature(X: Any, y_pred: Any = None) -> Signature | None:
    """Signature of training/inference data ``X`` (DataFrame or 2-D array)."""
    outputs: dict[str, Any] = {}
    if y_pred is not None:
        arr = np.asarray(y_pred)
        outputs = {"dtype": str(arr.dtype), "shape": [-1, *arr.shape[1:]]}
    frame = _as_frame(X)
    if frame is None:
        return None
    kind = "dataframe" if isinstance(X, pd.DataFrame) else "ndarray"
    return Signature([{"name": str(c), "dtype": str(t)} for c, t in frame.dtypes.items()],
                     outputs, kind)


def _as_frame(X: Any, rows: int | None = None) -> pd.DataFrame | None:
    """``X`` (or its first ``rows``) as a DataFrame; 2-D arrays get columns x0, x1, ..."""
    if isinstance(X, pd.DataFrame):
        return X if rows is None else X.head(rows)
    try:
        arr = np.asarray(X)
    except Exception:
        return None
    if arr.ndim != 2:
        return None
    return pd.DataFrame(arr if rows is None else arr[:rows],
                        columns=[f"x{i}" for i in range(arr.shape[1])])


def input_example(X: Any, rows: int = 5) -> dict[str, Any] | None:
    """A few rows of ``X`` in the column-split form ``{"columns": [...], "data": [...]}``."""
    head = _as_frame(X, rows)
    if head is None:
        return None
    data = head.astype(object).where(head.notna(), None).to_numpy().tolist()
    return {"columns": [str(c) for c in head.columns],
            "data": [[v.item() if isinstance(v, np.generic) else v for v in row]
                     for row in data]}


def column_kind(dtype: str) -> str:
    """The kind of a dtype name: int, float, bool, datetime or text."""
    d = dtype.lower()
    if d.startswith(("int", "uint")):
        return "int"
    if d.startswith("float"):
        return "float"
    if d.startswith("bool"):
        return "bool"
    if d.startswith("datetime"):
        return "datetime"
    return "text"  # object, str, string, category


def check_unique_columns(frame: pd.DataFrame) -> None:
    """Raise :class:`~mlops_jlab.errors.SchemaMismatch` naming every column name that
    occurs more than once in ``frame`` (a column cannot be told apart from its twin)."""
    from ..errors import SchemaMismatch

    twice = frame.columns[frame.columns.duplicated()].unique()
    if len(twice):
        problems = [f"duplicate column {c!r}" for c in twice]
        raise SchemaMismatch("input has duplicate column names: " + "; ".join(problems),
                             problems=problems)


# (expected kind, given kind) pairs converted without loss
_SAFE = {("float", "int"), ("float", "bool"), ("int", "bool"), ("text", "text")}


def enforce_signature(signature: Signature, data: Any) -> pd.DataFrame:
    """Check ``data`` against the signature and return it with the declared columns in
    order and dtypes; raise :class:`~mlops_jlab.errors.SchemaMismatch` listing every
    problem (missing columns, extra columns, wrong dtypes)."""
    from ..errors import SchemaMismatch

    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, dict) and "columns" in data and "data" in data:
        frame = pd.DataFrame(data["data"], columns=data["columns"])
    elif isinstance(data, list) and data and isinstance(data[0], dict):
        frame = pd.DataFrame(data)
    else:
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[1] != len(signature.inputs):
            raise SchemaMismatch(
                f"expected {len(signature.inputs)} columns "
                f"({', '.join(c['name'] for c in signature.inputs)}), got an array of "
                f"shape {arr.shape}", problems=[f"shape {arr.shape}"])
        frame = pd.DataFrame(arr, columns=[c["name"] for c in signature.inputs])
        frame = frame.infer_objects()
    check_unique_columns(frame)
    expected = [c["name"] for c in signature.inputs]
    problems = [f"missing column {c!r}" for c in expected if c not in frame.columns]
    problems += [f"unexpected column {c!r}" for c in frame.columns if c not in expected]
    out = {}
    for col in signature.inputs:
        name = col["name"]
        if name not in frame.columns:
            continue
        series = frame[name]
        want, have = column_kind(col["dtype"]), column_kind(str(series.dtype))
        if want == have:
            out[name] = series
            continue
        if (want, have) in _SAFE:
            out[name] = series.astype(col["dtype"])
            continue
        if (want, have) == ("int", "float") and _integral(series):
            out[name] = series.astype(col["dtype"])  # 3.0 is 3 (JSON clients send both)
            continue
        if want in ("int", "float") and have == "text":
            converted = pd.to_numeric(series, errors="coerce")
            if converted.notna().sum() == series.notna().sum():
                out[name] = converted
                continue
        problems.append(f"column {name!r} has dtype {series.dtype}, expected {col['dtype']}")
    if problems:
        raise SchemaMismatch("input does not match the model signature: " +
                             "; ".join(problems), problems=problems)
    return pd.DataFrame(out, columns=expected, index=frame.index)


def _integral(series: pd.Series) -> bool:
    values = series.to_numpy(dtype=float)
    return bool(np.isfinite(values).all() and (values == np.trunc(values)).all())
