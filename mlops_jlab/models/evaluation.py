"""Standard metrics of a fitted model on held-out data."""

from __future__ import annotations

from typing import Any

import numpy as np


def evaluate(model: Any, X: Any, y: Any) -> dict[str, float]:
    """Classification: accuracy, f1, precision, recall, roc_auc (when probabilities exist);
    regression: rmse, mae, r2. Multiclass scores are weighted averages."""
    from sklearn import metrics as m
    from sklearn.base import is_classifier

    y_true = np.asarray(y)
    y_pred = model.predict(X)
    if is_classifier(model) or _looks_categorical(y_true, y_pred):
        labels = np.unique(y_true)
        binary = len(labels) <= 2
        avg = "binary" if binary else "weighted"
        pos = labels[-1] if binary and len(labels) == 2 else None
        kwargs: dict[str, Any] = {"average": avg, "zero_division": 0}
        if binary and pos is not None:
            kwargs["pos_label"] = pos
        out = {
            "accuracy": float(m.accuracy_score(y_true, y_pred)),
            "f1": float(m.f1_score(y_true, y_pred, **kwargs)),
            "precision": float(m.precision_score(y_true, y_pred, **kwargs)),
            "recall": float(m.recall_score(y_true, y_pred, **kwargs)),
        }
        if hasattr(model, "predict_proba"):
            try:
                proba = model.predict_proba(X)
                if binary and proba.shape[1] == 2:
                    out["roc_auc"] = float(m.roc_auc_score(y_true, proba[:, 1]))
                elif not binary:
                    out["roc_auc"] = float(m.roc_auc_score(
                        y_true, proba, multi_class="ovr", average="weighted",
                        labels=getattr(model, "classes_", None)))
            except (ValueError, AttributeError):
                pass  # e.g. a class missing from y: no AUC rather than a failed cell
        return out
    return {
        "rmse": float(np.sqrt(m.mean_squared_error(y_true, y_pred))),
        "mae": float(m.mean_absolute_error(y_true, y_pred)),
        "r2": float(m.r2_score(y_true, y_pred)),
    }


def _looks_categorical(y_true: np.ndarray, y_pred: Any) -> bool:
    return y_true.dtype.kind in "OUSb"
