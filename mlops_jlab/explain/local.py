"""Per-row explanations: how much each feature moves one row's output.

Every method explains against the same one-row reference (median / most frequent value
per feature, see :func:`.subject.reference_row`), so ``base_value`` is the model's output
for that typical row and the contributions say how far each feature's value moves this
row's output away from it:

- ``shap.TreeExplainer`` for tree models (scikit-learn trees and tree ensembles,
  XGBoost, LightGBM), on probabilities; exact and additive.
- ``shap.LinearExplainer`` for linear models, on the model's margin (log-odds for a
  binary classifier); exact and additive.
  Both also apply to a pipeline of per-feature scalers (StandardScaler, MinMaxScaler,
  MaxAbsScaler, RobustScaler) in front of such a model: each input still maps to one
  model feature.
- ``shap.PermutationExplainer`` (model-agnostic, any pipeline; additive) when shap is
  installed and nothing above applies (``mode="full"``, what ``mlops.explain`` uses).
- ``occlusion`` without shap, and in serving workers for models shap has no fast
  explainer for (``mode="fast"``): each feature in turn is replaced by its reference
  value and the change of the output is its contribution (one batched predict call of
  rows x (features + 1) rows). Not additive when features interact.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .subject import ExplainedModel, is_categorical

TREE_MODULES = ("sklearn.tree", "sklearn.ensemble._forest", "sklearn.ensemble._gb",
                "sklearn.ensemble._hist_gradient_boosting", "xgboost", "lightgbm")
LINEAR_MODULES = ("sklearn.linear_model", "sklearn.svm._classes")
#: steps that map each input column to one output column (kept in order)
PER_FEATURE_STEPS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler")


@dataclass
class LocalResult:
    """Per-row contributions of one explainer."""

    method: str
    target: str
    predictions: np.ndarray  # (rows,): the explained output of each row
    base_values: np.ndarray  # (rows,): the output at the reference (per row's class)
    contributions: np.ndarray  # (rows, features)
    classes: list[Any] | None = None  # per row, the class explained (multiclass only)


def shap_module() -> Any | None:
    """``shap`` when it can be imported (``sys.modules["shap"] = None`` hides it)."""
    try:
        return importlib.import_module("shap")
    except ImportError:
        return None


class LocalExplainer:
    """Built once per model and reference; :meth:`explain` takes frames of the model's
    columns. ``mode="full"`` may use shap's model-agnostic explainer, ``"fast"`` (serving)
    falls back to occlusion instead."""

    def __init__(self, subject: ExplainedModel, reference: pd.DataFrame,
                 mode: str = "full") -> None:
        self.subject = subject
        self.reference = reference[subject.features]
        self.strategy = _choose(subject, self.reference, mode)
        self.method = self.strategy.method
        self.target = self.strategy.target

    def explain(self, frame: pd.DataFrame) -> LocalResult:
        """Contributions of every row of ``frame``."""
        if list(frame.columns) != self.subject.features:
            frame = frame[self.subject.features]
        outputs, base, values = self.strategy.run(frame)
        cols = self.subject.explained_columns(outputs) if outputs.shape[1] > 1 else \
            np.zeros(len(frame), dtype=int)
        rows = np.arange(len(frame))
        if base.ndim == 1:
            base = np.broadcast_to(base, (len(frame), base.shape[0]))
        classes = None
        if self.subject.task == "classification" and not self.subject.binary:
            classes = [(self.subject.classes or [])[c] for c in cols]
        return LocalResult(self.method, self.target, outputs[rows, cols], base[rows, cols],
                           values[rows, :, cols], classes)


def _choose(subject: ExplainedModel, reference: pd.DataFrame, mode: str) -> Any:
    shap = shap_module()
    if shap is not None:
        numeric = not any(is_categorical(reference[c]) for c in reference.columns)
        pre, final = _split_per_feature(subject.estimator) if numeric else (None, None)
        if final is not None:
            module = type(final).__module__
            if module.startswith(TREE_MODULES):
                try:
                    return _TreeShap(shap, subject, reference, pre, final)
                except Exception:  # a tree model shap does not support: next method
                    pass
            if module.startswith(LINEAR_MODULES) and hasattr(final, "coef_") and (
                    subject.task != "classification" or hasattr(final, "decision_function")):
                try:
                    return _LinearShap(shap, subject, reference, pre, final)
                except Exception:
                    pass
        if mode == "full":
            return _PermutationShap(shap, subject, reference)
    return _Occlusion(subject, reference)


def _split_per_feature(estimator: Any) -> tuple[Any, Any]:
    """(per-feature preprocessing or None, final model) of a bare model or of a pipeline
    whose steps before the model are per-feature scalers; (None, None) otherwise."""
    from sklearn.pipeline import Pipeline

    if not isinstance(estimator, Pipeline):
        return None, estimator
    steps = [step for _, step in estimator.steps[:-1] if step not in (None, "passthrough")]
    if all(type(step).__name__ in PER_FEATURE_STEPS and
           type(step).__module__.startswith("sklearn.preprocessing") for step in steps):
        return (estimator[:-1] if steps else None), estimator.steps[-1][1]
    return None, None


def _matrix(subject: ExplainedModel, pre: Any, frame: pd.DataFrame) -> np.ndarray:
    model_input = subject.to_model(frame)
    if pre is not None:
        model_input = pre.transform(model_input)
    return np.asarray(model_input, dtype=float)


def _per_output(values: Any, rows: int, features: int) -> np.ndarray:
    """shap values as (rows, features, outputs)."""
    arr = np.asarray(values, dtype=float)
    if isinstance(values, list):  # older shap: one array per output
        arr = np.stack([np.asarray(v, dtype=float) for v in values], axis=-1)
    return arr.reshape(rows, features, -1)


class _TreeShap:
    method = "shap.TreeExplainer"

    def __init__(self, shap: Any, subject: ExplainedModel, reference: pd.DataFrame,
                 pre: Any, final: Any) -> None:
        self.subject, self.pre, self.final = subject, pre, final
        self.classifier = subject.task == "classification"
        self.explainer = shap.TreeExplainer(
            final, data=_matrix(subject, pre, reference),
            model_output="probability" if self.classifier else "raw")
        self.target = subject.target()

    def run(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        X = _matrix(self.subject, self.pre, frame)
        values = _per_output(self.explainer.shap_values(X, check_additivity=False),
                             len(frame), X.shape[1])
        base = np.atleast_1d(np.asarray(self.explainer.expected_value, dtype=float))
        # against one reference row the values add up exactly: no second predict call
        return base[None, :] + values.sum(axis=1), base, values


class _LinearShap:
    method = "shap.LinearExplainer"

    def __init__(self, shap: Any, subject: ExplainedModel, reference: pd.DataFrame,
                 pre: Any, final: Any) -> None:
        self.subject, self.pre, self.final = subject, pre, final
        self.classifier = subject.task == "classification"
        self.explainer = shap.LinearExplainer(final, _matrix(subject, pre, reference))
        scale = "log-odds" if subject.binary else "decision score"
        self.target = subject.target(scale)

    def run(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        X = _matrix(self.subject, self.pre, frame)
        values = _per_output(self.explainer.shap_values(X), len(frame), X.shape[1])
        base = np.atleast_1d(np.asarray(self.explainer.expected_value, dtype=float))
        outputs = base[None, :] + values.sum(axis=1)  # the margin, exactly
        if self.subject.binary:  # one margin: the log-odds of classes_[1]
            outputs = np.column_stack([-outputs[:, 0], outputs[:, 0]])
            values = np.concatenate([-values, values], axis=2)
            base = np.array([-base[0], base[0]])
        return outputs, base, values


class _Codes:
    """Categorical columns as integer codes, so shap's maskers see a float matrix."""

    def __init__(self, reference: pd.DataFrame) -> None:
        self.columns = list(reference.columns)
        self.dtypes = reference.dtypes.to_dict()
        self.categories: dict[str, list[Any]] = {
            c: [reference[c].iloc[0]] for c in self.columns if is_categorical(reference[c])}

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        out = frame.copy()
        for col, known in self.categories.items():
            for value in pd.unique(frame[col]):
                if value not in known:
                    known.append(value)
            out[col] = [known.index(v) for v in frame[col]]
        return out.to_numpy(dtype=float)

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame(matrix, columns=self.columns)
        for col, known in self.categories.items():
            frame[col] = np.asarray(known, dtype=object)[frame[col].to_numpy(dtype=int)]
        return frame.astype(self.dtypes)


class _PermutationShap:
    method = "shap.PermutationExplainer"

    def __init__(self, shap: Any, subject: ExplainedModel, reference: pd.DataFrame) -> None:
        self.shap, self.subject = shap, subject
        self.codes = _Codes(reference)
        self.reference = reference
        self.target = subject.target()

    def run(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        encoded = self.codes.encode(frame)  # first: new categories join the code table
        masker = self.shap.maskers.Independent(self.codes.encode(self.reference),
                                               max_samples=1)
        explainer = self.shap.explainers.Permutation(
            lambda m: self.subject.outputs(self.codes.decode(m)), masker)
        width = len(self.subject.features)
        result = explainer(encoded, max_evals=2 * width + 1, silent=True)
        values = _per_output(result.values, len(frame), width)
        base = np.asarray(result.base_values, dtype=float).reshape(len(frame), -1)
        outputs = self.subject.outputs(frame)
        return outputs, base, values


class _Occlusion:
    method = "occlusion"

    def __init__(self, subject: ExplainedModel, reference: pd.DataFrame) -> None:
        self.subject, self.reference = subject, reference
        self.target = subject.target()

    def run(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n, width = len(frame), len(self.subject.features)
        frame = frame.reset_index(drop=True)
        big = frame.iloc[np.tile(np.arange(n), width + 1)].reset_index(drop=True)
        for j, col in enumerate(self.subject.features):
            big.iloc[(j + 1) * n:(j + 2) * n, j] = self.reference[col].iloc[0]
        batch = pd.concat([big, self.reference], ignore_index=True)
        batch = batch.astype(frame.dtypes.to_dict())
        outputs = self.subject.outputs(batch)
        k = outputs.shape[1]
        own = outputs[:n]
        occluded = outputs[n:n * (width + 1)].reshape(width, n, k).transpose(1, 0, 2)
        values = own[:, None, :] - occluded
        return own, outputs[-1], values
