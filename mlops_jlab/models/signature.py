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
