"""What is explained: a fitted model, the columns it takes and the output explained.

For a regressor the explained output is the prediction. For a classifier it is the
probability of the positive class (binary: ``classes_[1]``) or of each row's predicted
class (more than two classes). The per-feature reference row (median of numbers, most
frequent value otherwise) is what the model-agnostic explainers replace a feature by,
and what a serving worker explains against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInput


def is_categorical(series: pd.Series) -> bool:
    """Columns explained by category: text, categories and booleans."""
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def plain(value: Any) -> Any:
    """A JSON-ready scalar (numpy scalars unwrapped, NaN and NaT as None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if value is pd.NaT:
        return None
    return str(value)


def reference_row(frame: pd.DataFrame) -> pd.DataFrame:
    """One row: the median of each numeric column (rounded for integers), the most
    frequent value of the others; dtypes kept."""
    values: dict[str, Any] = {}
    for col in frame.columns:
        series = frame[col]
        if is_categorical(series):
            mode = series.mode(dropna=True)
            values[col] = mode.iloc[0] if len(mode) else series.iloc[0]
        else:
            median = float(series.median()) if series.notna().any() else 0.0
            values[col] = round(median) if pd.api.types.is_integer_dtype(series) else median
    ref = pd.DataFrame({c: [v] for c, v in values.items()}, columns=frame.columns)
    return ref.astype(frame.dtypes.to_dict())


def reference_from_background(background: dict[str, Any], columns: list[str],
                              dtypes: dict[str, str]) -> pd.DataFrame:
    """The reference row a stored ``background`` describes, in ``columns`` order."""
    given = dict(zip(background.get("features") or [], background.get("values") or [],
                     strict=False))
    missing = [c for c in columns if c not in given]
    if missing:
        raise InvalidInput(f"the stored background lacks the column(s) {', '.join(missing)}")
    ref = pd.DataFrame({c: [given[c]] for c in columns}, columns=columns)
    return ref.astype({c: dtypes[c] for c in columns if c in dtypes})


@dataclass
class ExplainedModel:
    """A fitted estimator and how frames reach it."""

    estimator: Any
    features: list[str]
    task: str
    classes: list[Any] | None = None
    #: frame (signature columns, in order) → what ``estimator`` takes
    to_model: Callable[[pd.DataFrame], Any] = field(default=lambda frame: frame)
    #: the estimator takes 2-D arrays (signature ``input_kind == "ndarray"``)
    array_input: bool = False

    @classmethod
    def of(cls, estimator: Any, features: list[str], *, array_input: bool = False,
           to_model: Callable[[pd.DataFrame], Any] | None = None) -> ExplainedModel:
        """Task and classes read from the estimator (classifiers need predict_proba)."""
        from sklearn.base import is_classifier

        classes = getattr(estimator, "classes_", None)
        classifier = is_classifier(estimator) or (
            classes is not None and hasattr(estimator, "predict_proba"))
        if classifier and not hasattr(estimator, "predict_proba"):
            raise InvalidInput(f"{type(estimator).__name__} has no predict_proba: its "
                               "probabilities cannot be explained")
        if to_model is None:
            to_model = (lambda frame: frame.to_numpy()) if array_input else \
                (lambda frame: frame)
        return cls(estimator, list(features), "classification" if classifier else
                   "regression", [plain(c) for c in classes] if classifier and
                   classes is not None else None, to_model, array_input)

    @property
    def binary(self) -> bool:
        return self.task == "classification" and len(self.classes or []) == 2

    def outputs(self, frame: pd.DataFrame) -> np.ndarray:
        """(rows, K): probabilities of every class, or the prediction (K = 1)."""
        model_input = self.to_model(frame)
        if self.task == "classification":
            return np.asarray(self.estimator.predict_proba(model_input), dtype=float)
        return np.asarray(self.estimator.predict(model_input), dtype=float).reshape(len(frame),
                                                                                     -1)

    def explained_columns(self, outputs: np.ndarray) -> np.ndarray:
        """Per row, the output column explained: the positive class (binary), the
        predicted class (more classes), the prediction (regression)."""
        if self.task != "classification":
            return np.zeros(len(outputs), dtype=int)
        if self.binary:
            return np.ones(len(outputs), dtype=int)
        return np.asarray(outputs.argmax(axis=1), dtype=int)

    def target(self, scale: str = "probability") -> str:
        """What the per-row values explain, in words."""
        if self.task != "classification":
            return "prediction"
        if self.binary:
            return f"{scale} of class '{self.classes[1]}'"  # type: ignore[index]
        return f"{scale} of the predicted class"
