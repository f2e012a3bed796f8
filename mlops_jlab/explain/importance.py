"""Global importance: how much a score drops when one feature's values are shuffled
(scikit-learn's ``permutation_importance``), measured on the data explained.

The score fits the task: accuracy for classifiers, R² for regressors. Without labels the
model is scored against its own predictions (agreement): the drop then says how much
the model's answers depend on the feature, not how much its accuracy does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .subject import ExplainedModel

SCORING = {"classification": "accuracy", "regression": "r2"}


def scoring_of(subject: ExplainedModel, labelled: bool) -> tuple[str, str]:
    """(scikit-learn scorer name, how the record words it)."""
    scorer = SCORING[subject.task]
    if labelled:
        return scorer, scorer
    return scorer, f"{scorer} against the model's own predictions (no labels given)"


def permutation_table(subject: ExplainedModel, frame: pd.DataFrame, y: Any, *,
                      n_repeats: int = 5, seed: int = 0) -> list[dict[str, Any]]:
    """``[{"feature", "mean", "std"}, ...]`` by decreasing mean drop of the score;
    ``y=None`` scores against the model's own predictions."""
    from sklearn.inspection import permutation_importance

    model_input = subject.to_model(frame)
    if y is None:
        y = np.asarray(subject.estimator.predict(model_input))
    scorer, _ = scoring_of(subject, True)
    result = permutation_importance(subject.estimator, model_input, np.asarray(y),
                                    scoring=scorer, n_repeats=n_repeats, random_state=seed)
    rows = [{"feature": str(name), "mean": float(mean), "std": float(std)}
            for name, mean, std in zip(subject.features, result.importances_mean,
                                       result.importances_std, strict=True)]
    return sorted(rows, key=lambda r: r["mean"], reverse=True)
