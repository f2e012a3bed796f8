"""Partial dependence: the model's average output as one feature sweeps its range,
the other features kept as they are in the data (scikit-learn's ``partial_dependence``).

Numbers get a grid between their 5th and 95th percentiles (integer columns with few
values: those values); text, categories and booleans get one point per category. The
output is the probability of the class the explanation targets (see
:class:`.subject.ExplainedModel`) or the prediction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .subject import ExplainedModel, is_categorical, plain

GRID = 20


def target_class(subject: ExplainedModel, frame: pd.DataFrame) -> int:
    """The class whose probability the curves show: the positive class of a binary task,
    else the class the model predicts most often on ``frame`` (0 for regressors)."""
    if subject.task != "classification":
        return 0
    if subject.binary:
        return 1
    counts = np.bincount(subject.outputs(frame).argmax(axis=1),
                         minlength=len(subject.classes or []))
    return int(counts.argmax())


def dependence_table(subject: ExplainedModel, frame: pd.DataFrame, features: list[str],
                     grid_resolution: int = GRID) -> list[dict[str, Any]]:
    """``[{"feature", "kind", "grid", "average", "target"}, ...]`` for ``features``."""
    cls = target_class(subject, frame)
    target = subject.target() if subject.task != "classification" or subject.binary else \
        f"probability of class '{(subject.classes or [])[cls]}'"
    out = []
    for feature in features:
        kind = "categorical" if is_categorical(frame[feature]) else "numeric"
        grid, average = _curve(subject, frame, feature, kind, cls, grid_resolution)
        out.append({"feature": feature, "kind": kind, "grid": [plain(g) for g in grid],
                    "average": [plain(float(a)) for a in average], "target": target})
    return out


def _curve(subject: ExplainedModel, frame: pd.DataFrame, feature: str, kind: str, cls: int,
           grid_resolution: int) -> tuple[list[Any], np.ndarray]:
    from sklearn.inspection import partial_dependence

    column = frame[feature]
    few_ints = pd.api.types.is_integer_dtype(column) and column.nunique() <= grid_resolution
    data = frame
    if kind == "numeric" and pd.api.types.is_integer_dtype(column) and not few_ints:
        data = frame.astype({feature: float})  # scikit-learn refuses integer grids
    by_category = kind == "categorical" or few_ints
    if subject.array_input:
        X: Any = subject.to_model(data)
        index: Any = subject.features.index(feature)
    else:
        X, index = data, feature
    try:
        result = partial_dependence(subject.estimator, X, [index], kind="average",
                                    grid_resolution=grid_resolution,
                                    categorical_features=[index] if by_category else None)
    except (ValueError, TypeError):  # e.g. booleans: average the model's output directly
        values = list(pd.unique(column.dropna()))
        return values, _brute(subject, frame, feature, values, cls)
    grid = list(result["grid_values"][0])
    average = np.asarray(result["average"])
    return grid, average[cls] if average.shape[0] > 1 else average[0]


def _brute(subject: ExplainedModel, frame: pd.DataFrame, feature: str, values: list[Any],
           cls: int) -> np.ndarray:
    averages = []
    for value in values:
        outputs = subject.outputs(frame.assign(**{feature: value}).astype(frame.dtypes))
        averages.append(outputs[:, cls if outputs.shape[1] > 1 else 0].mean())
    return np.asarray(averages)
