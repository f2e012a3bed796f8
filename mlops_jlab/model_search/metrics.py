"""The metrics AutoML optimises: names users type, mapped to scikit-learn scorers.

Scores are reported the way people read them: an error (``rmse``, ``log_loss``) is a
positive number to minimise, never scikit-learn's negated ``neg_*`` value; the Optuna
study's direction follows the metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)

#: name -> (task, scikit-learn scorer or score function, greater is better, binary only)
_TABLE: dict[str, tuple[str, str, bool, bool]] = {
    "accuracy": (CLASSIFICATION, "accuracy", True, False),
    "balanced_accuracy": (CLASSIFICATION, "balanced_accuracy", True, False),
    "f1": (CLASSIFICATION, "f1_score", True, True),
    "precision": (CLASSIFICATION, "precision_score", True, True),
    "recall": (CLASSIFICATION, "recall_score", True, True),
    "average_precision": (CLASSIFICATION, "average_precision_score", True, True),
    "f1_macro": (CLASSIFICATION, "f1_macro", True, False),
    "f1_weighted": (CLASSIFICATION, "f1_weighted", True, False),
    "roc_auc": (CLASSIFICATION, "roc_auc", True, False),
    "log_loss": (CLASSIFICATION, "neg_log_loss", False, False),
    "r2": (REGRESSION, "r2", True, False),
    "rmse": (REGRESSION, "neg_root_mean_squared_error", False, False),
    "mse": (REGRESSION, "neg_mean_squared_error", False, False),
    "mae": (REGRESSION, "neg_mean_absolute_error", False, False),
    "median_ae": (REGRESSION, "neg_median_absolute_error", False, False),
    "mape": (REGRESSION, "neg_mean_absolute_percentage_error", False, False),
    "explained_variance": (REGRESSION, "explained_variance", True, False),
}
DEFAULT_METRIC = {CLASSIFICATION: "accuracy", REGRESSION: "r2"}


def metric_names(task: str) -> list[str]:
    """The metrics available for ``task``."""
    return [name for name, row in _TABLE.items() if row[0] == task]


@dataclass(frozen=True)
class Metric:
    """A metric bound to one problem: how to score a fitted pipeline on held-out rows."""

    name: str
    task: str
    scorer: str
    greater_is_better: bool
    #: the positive class of a binary-only metric (the last of the sorted labels)
    pos_label: Any = None
    #: True when the metric reads class probabilities (an SVM then needs probability=True)
    needs_proba: bool = False

    @property
    def direction(self) -> str:
        """The Optuna study direction."""
        return "maximize" if self.greater_is_better else "minimize"

    def better(self, a: float, b: float) -> bool:
        """True when score ``a`` beats score ``b``."""
        return a > b if self.greater_is_better else a < b

    def score(self, model: Any, X: Any, y: Any) -> float:
        """The metric of a fitted model on ``(X, y)``, as users read it."""
        value = float(self._scorer()(model, X, y))
        return value if self.greater_is_better else -value

    def _scorer(self) -> Any:
        from sklearn import metrics

        if self.scorer.endswith("_score"):  # a binary metric with an explicit positive class
            function = getattr(metrics, self.scorer)
            method: Any = ("decision_function", "predict_proba") \
                if self.scorer == "average_precision_score" else "predict"
            return metrics.make_scorer(function, response_method=method,
                                       pos_label=self.pos_label)
        return metrics.get_scorer(self.scorer)


def resolve_metric(task: str, name: str | None, classes: Sequence[Any] = ()) -> Metric:
    """The metric ``name`` for ``task`` (its default when None); ``classes`` are the
    sorted labels of a classification target. Raises :class:`InvalidInput` for a
    metric of the other task or a binary-only metric on more than two classes."""
    if name is None:
        name = DEFAULT_METRIC[task]
    if not isinstance(name, str) or name not in _TABLE:
        raise InvalidInput(f"unknown metric {name!r} for {task}: use one of "
                           f"{', '.join(metric_names(task))}")
    row_task, scorer, greater, binary_only = _TABLE[name]
    if row_task != task:
        raise InvalidInput(f"metric {name!r} is a {row_task} metric; for {task} use one of "
                           f"{', '.join(metric_names(task))}")
    pos_label = None
    if binary_only:
        if len(classes) != 2:
            raise InvalidInput(f"metric {name!r} needs a binary target, this one has "
                               f"{len(classes)} classes: use f1_macro, f1_weighted, "
                               "balanced_accuracy or accuracy")
        pos_label = classes[-1]
    if name == "roc_auc" and len(classes) > 2:
        scorer = "roc_auc_ovr"  # one-vs-rest, macro-averaged
    return Metric(name=name, task=task, scorer=scorer, greater_is_better=greater,
                  pos_label=pos_label, needs_proba=name == "log_loss")
