"""The model families AutoML chooses from and their Optuna search spaces.

Families: ``linear`` (logistic regression / ridge), ``random_forest``, ``extra_trees``,
``hist_gradient_boosting``, ``knn`` (at most :data:`KNN_MAX_ROWS` training rows: its
predictions scan the whole training set) and ``svm`` (at most :data:`SVM_MAX_ROWS` rows:
kernel SVMs fit in quadratic-to-cubic time in the rows). Hyperparameters are named
``<family>.<name>`` in the study (one family's ``C`` is not another's); runs and the
leaderboard show them without the prefix. Each family also has a warm-start point,
scikit-learn's defaults, tried first so the search never does worse than them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput
from .metrics import CLASSIFICATION, REGRESSION

KNN_MAX_ROWS = 20_000
SVM_MAX_ROWS = 5_000
FOREST_MAX_FEATURES: list[Any] = ["sqrt", "log2", 0.25, 0.5, 0.75, 1.0]

Suggest = Callable[[Any, str], dict[str, Any]]


@dataclass(frozen=True)
class Family:
    """One model family: its search space, warm start and estimator."""

    name: str
    label: str
    suggest: Suggest
    defaults: Callable[[str], dict[str, Any] | None]
    max_rows: int | None = None


def _linear(trial: Any, task: str) -> dict[str, Any]:
    if task == CLASSIFICATION:
        return {"C": trial.suggest_float("linear.C", 1e-4, 1e3, log=True),
                "class_weight": trial.suggest_categorical("linear.class_weight",
                                                          [None, "balanced"])}
    return {"alpha": trial.suggest_float("linear.alpha", 1e-4, 1e3, log=True)}


def _forest(prefix: str) -> Suggest:
    def suggest(trial: Any, task: str) -> dict[str, Any]:
        params = {
            "n_estimators": trial.suggest_int(f"{prefix}.n_estimators", 50, 400, log=True),
            "min_samples_leaf": trial.suggest_int(f"{prefix}.min_samples_leaf", 1, 20,
                                                  log=True),
            "max_features": trial.suggest_categorical(f"{prefix}.max_features",
                                                      FOREST_MAX_FEATURES)}
        if task == CLASSIFICATION:
            params["class_weight"] = trial.suggest_categorical(
                f"{prefix}.class_weight", [None, "balanced", "balanced_subsample"])
        return params

    return suggest


def _forest_defaults(task: str) -> dict[str, Any]:
    params: dict[str, Any] = {"n_estimators": 100, "min_samples_leaf": 1,
                              "max_features": "sqrt" if task == CLASSIFICATION else 1.0}
    if task == CLASSIFICATION:
        params["class_weight"] = None
    return params


def _hgb(trial: Any, task: str) -> dict[str, Any]:
    p = "hist_gradient_boosting"
    return {
        "learning_rate": trial.suggest_float(f"{p}.learning_rate", 0.01, 0.3, log=True),
        "max_iter": trial.suggest_int(f"{p}.max_iter", 50, 500, log=True),
        "max_leaf_nodes": trial.suggest_int(f"{p}.max_leaf_nodes", 8, 128, log=True),
        "min_samples_leaf": trial.suggest_int(f"{p}.min_samples_leaf", 2, 100, log=True),
        "l2_regularization": trial.suggest_float(f"{p}.l2_regularization", 1e-6, 10.0,
                                                 log=True),
        "max_features": trial.suggest_float(f"{p}.max_features", 0.3, 1.0)}


def _knn(trial: Any, task: str) -> dict[str, Any]:
    return {"n_neighbors": trial.suggest_int("knn.n_neighbors", 1, 50, log=True),
            "weights": trial.suggest_categorical("knn.weights", ["uniform", "distance"]),
            "p": trial.suggest_categorical("knn.p", [1, 2])}


def _svm(trial: Any, task: str) -> dict[str, Any]:
    params = {"C": trial.suggest_float("svm.C", 1e-2, 1e3, log=True),
              "gamma": trial.suggest_float("svm.gamma", 1e-4, 1.0, log=True)}
    if task == REGRESSION:
        params["epsilon"] = trial.suggest_float("svm.epsilon", 1e-3, 1.0, log=True)
    return params


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("linear", "Linear", _linear,
           lambda task: {"C": 1.0, "class_weight": None} if task == CLASSIFICATION
           else {"alpha": 1.0}),
    Family("random_forest", "Random forest", _forest("random_forest"), _forest_defaults),
    Family("extra_trees", "Extra trees", _forest("extra_trees"), _forest_defaults),
    Family("hist_gradient_boosting", "Histogram gradient boosting", _hgb,
           lambda task: {"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31,
                         "min_samples_leaf": 20, "l2_regularization": 1e-6,
                         "max_features": 1.0}),
    Family("knn", "k-nearest neighbours", _knn,
           lambda task: {"n_neighbors": 5, "weights": "uniform", "p": 2},
           max_rows=KNN_MAX_ROWS),
    Family("svm", "Support vector machine", _svm, lambda task: None, max_rows=SVM_MAX_ROWS),
)}

#: the warm-start order: the cheap linear baseline, then the strong general-purpose
#: defaults (gradient boosting is the slowest on many classes: it grows a tree per class)
WARM_START = ("linear", "hist_gradient_boosting", "random_forest", "extra_trees", "knn")


def choose_families(requested: Sequence[str] | str | None, rows: int) -> list[str]:
    """The families to search: ``requested`` (checked) or every family the data size
    allows. Raises :class:`InvalidInput` for an unknown family or one too slow for
    ``rows`` training rows."""
    if requested is None:
        return [f.name for f in FAMILIES.values() if f.max_rows is None or rows <= f.max_rows]
    names = [requested] if isinstance(requested, str) else list(requested)
    if not names:
        raise InvalidInput("families is empty: leave it out to search every family")
    for name in names:
        if name not in FAMILIES:
            raise InvalidInput(f"unknown model family {name!r}: use "
                               f"{', '.join(FAMILIES)}")
        limit = FAMILIES[name].max_rows
        if limit is not None and rows > limit:
            raise InvalidInput(f"family {name!r} is limited to {limit:,} rows, the data "
                               f"has {rows:,}")
    return list(dict.fromkeys(names))


def suggest(trial: Any, families: Sequence[str], task: str) -> tuple[str, dict[str, Any]]:
    """Sample a family and its hyperparameters (define-by-run)."""
    family = trial.suggest_categorical("family", list(families))
    return family, FAMILIES[family].suggest(trial, task)


def warm_start_points(families: Sequence[str], task: str) -> list[dict[str, Any]]:
    """Study parameters (prefixed) of the default configurations, to enqueue first."""
    points = []
    for name in WARM_START:
        if name not in families:
            continue
        defaults = FAMILIES[name].defaults(task)
        if defaults is not None:
            points.append({"family": name, **{f"{name}.{k}": v for k, v in defaults.items()}})
    return points


def build_estimator(task: str, family: str, params: dict[str, Any], *, n_jobs: int = 1,
                    needs_proba: bool = False, seed: int = 0) -> Any:
    """The scikit-learn estimator of one trial."""
    from sklearn import ensemble, linear_model, neighbors, svm

    classify = task == CLASSIFICATION
    if family == "linear":
        if classify:
            return linear_model.LogisticRegression(max_iter=2000, **params)
        return linear_model.Ridge(**params)
    if family in ("random_forest", "extra_trees"):
        kind = {("random_forest", True): ensemble.RandomForestClassifier,
                ("random_forest", False): ensemble.RandomForestRegressor,
                ("extra_trees", True): ensemble.ExtraTreesClassifier,
                ("extra_trees", False): ensemble.ExtraTreesRegressor}[(family, classify)]
        return kind(n_jobs=n_jobs, random_state=seed, **params)
    if family == "hist_gradient_boosting":
        kind = ensemble.HistGradientBoostingClassifier if classify else \
            ensemble.HistGradientBoostingRegressor
        return kind(random_state=seed, **params)
    if family == "knn":
        kind = neighbors.KNeighborsClassifier if classify else neighbors.KNeighborsRegressor
        return kind(**params)
    if family == "svm":
        if classify:
            if needs_proba:  # probabilities calibrated on internal folds of the training rows
                from sklearn.calibration import CalibratedClassifierCV

                return CalibratedClassifierCV(svm.SVC(random_state=seed, **params),
                                              ensemble=False)
            return svm.SVC(random_state=seed, **params)
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        return TransformedTargetRegressor(regressor=svm.SVR(**params),
                                          transformer=StandardScaler())
    raise InvalidInput(f"unknown model family {family!r}")
