"""Model parameters as a list of numpy arrays, for the estimators a federation trains.

Supported: ``LogisticRegression`` (L-BFGS, warm-started from the global weights),
``SGDClassifier`` (``partial_fit``), ``MLPClassifier`` and ``MLPRegressor``
(``partial_fit``). A :class:`ModelSpec` fixes what every site must share: the feature
count, the full class list and the layer sizes, so every site's parameter arrays have
the same shapes and can be averaged.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import InvalidInput

Kind = Literal["logistic", "sgd", "mlp"]
KINDS: tuple[str, ...] = ("logistic", "sgd", "mlp")
#: L-BFGS iterations (full passes over the site's rows) per local epoch of "logistic"
LBFGS_ITERATIONS_PER_EPOCH = 10


def estimator_for(model: Any, seed: int) -> Any:
    """The unfitted estimator ``model`` names (``"logistic"``, ``"sgd"``, ``"mlp"``)
    or ``model`` itself (a clone) when it is a supported scikit-learn estimator."""
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if isinstance(model, str):
        if model == "logistic":
            return LogisticRegression(C=1.0, max_iter=LBFGS_ITERATIONS_PER_EPOCH)
        if model == "sgd":
            return SGDClassifier(loss="log_loss", learning_rate="constant", eta0=0.01,
                                 alpha=1e-4, random_state=seed)
        if model == "mlp":
            return MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01,
                                 batch_size=32, random_state=seed)
        raise InvalidInput(f"unknown model kind {model!r}: use one of {list(KINDS)} or an "
                           "unfitted LogisticRegression, SGDClassifier, MLPClassifier or "
                           "MLPRegressor")
    if isinstance(model, (LogisticRegression, SGDClassifier, MLPClassifier, MLPRegressor)):
        if hasattr(model, "coef_") or hasattr(model, "coefs_"):
            raise InvalidInput(f"pass an unfitted {type(model).__name__}: the federation "
                               "initialises the weights itself")
        return clone(model)
    raise InvalidInput(f"cannot federate {type(model).__name__}: use one of {list(KINDS)} "
                       "or an unfitted LogisticRegression, SGDClassifier, MLPClassifier or "
                       "MLPRegressor")


@dataclass
class ModelSpec:
    """The shared shape of the model: estimator template, features, classes."""

    template: Any
    n_features: int
    classes: np.ndarray | None  # None for a regressor

    @property
    def family(self) -> str:
        """``"linear"`` or ``"mlp"``."""
        return "mlp" if hasattr(self.template, "hidden_layer_sizes") else "linear"

    @property
    def is_classifier(self) -> bool:
        return self.classes is not None

    @property
    def score_name(self) -> str:
        """The headline metric: ``accuracy`` for classifiers, ``r2`` for regressors."""
        return "accuracy" if self.is_classifier else "r2"

    @property
    def kind_name(self) -> str:
        return type(self.template).__name__

    # ------------------------------------------------------------------ structure
    def fresh(self) -> Any:
        """An estimator with the federation's structure (classes, shapes) whose weights
        are then set with :meth:`set_params`. No data is used."""
        from sklearn.base import clone

        est = clone(self.template)
        if self.family == "mlp":
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Got `batch_size`")
                return self._fresh_mlp(est)
        return self._fresh_linear(est)

    def _fresh_mlp(self, est: Any) -> Any:
        # one step on a zero batch builds the layers, output activation and label
        # binariser for the full class list; the weights are overwritten next
        if self.classes is not None:
            zeros = np.zeros((len(self.classes), self.n_features))
            est.partial_fit(zeros, self.classes, classes=self.classes)
        else:
            est.partial_fit(np.zeros((2, self.n_features)), np.zeros(2))
        if hasattr(est, "_optimizer"):  # start local training with a fresh optimiser
            del est._optimizer
        return est

    def _fresh_linear(self, est: Any) -> Any:
        assert self.classes is not None
        rows = 1 if len(self.classes) == 2 else len(self.classes)
        est.classes_ = self.classes
        est.coef_ = np.zeros((rows, self.n_features))
        est.intercept_ = np.zeros(rows)
        est.n_features_in_ = self.n_features
        if hasattr(est, "warm_start"):
            est.warm_start = True
        return est

    def initial_params(self, seed: int) -> list[np.ndarray]:
        """The round-0 global parameters: zeros for linear models, Glorot-uniform
        weights (scikit-learn's own scheme) for an MLP, both from ``seed``."""
        if self.family == "linear":
            return [np.zeros_like(p) for p in self.get_params(self.fresh())]
        rng = np.random.default_rng(seed)
        out: list[np.ndarray] = []
        shapes = self.shapes()
        half = len(shapes) // 2
        for coef_shape in shapes[:half]:
            fan_in, fan_out = coef_shape
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            out.append(rng.uniform(-bound, bound, size=coef_shape))
        for bias_shape in shapes[half:]:
            out.append(np.zeros(bias_shape))
        return out

    def shapes(self) -> list[tuple[int, ...]]:
        """The shape of every parameter array, in order."""
        return [tuple(p.shape) for p in self.get_params(self.fresh())]

    # ------------------------------------------------------------------ parameters
    def get_params(self, est: Any) -> list[np.ndarray]:
        """The estimator's weights: ``[coef, intercept]`` or the MLP's layer weights
        followed by its biases."""
        if self.family == "mlp":
            return [np.array(w, dtype=np.float64) for w in [*est.coefs_, *est.intercepts_]]
        return [np.array(est.coef_, dtype=np.float64),
                np.array(est.intercept_, dtype=np.float64)]

    def set_params(self, est: Any, params: Sequence[np.ndarray]) -> Any:
        """Load ``params`` (shapes as :meth:`shapes`) into ``est``; returns it."""
        if self.family == "mlp":
            half = len(params) // 2
            est.coefs_ = [np.array(p, dtype=np.float64) for p in params[:half]]
            est.intercepts_ = [np.array(p, dtype=np.float64) for p in params[half:]]
            return est
        est.coef_ = np.array(params[0], dtype=np.float64)
        est.intercept_ = np.array(params[1], dtype=np.float64)
        return est

    def build(self, params: Sequence[np.ndarray]) -> Any:
        """A fitted estimator holding ``params``."""
        return self.set_params(self.fresh(), params)

    # ------------------------------------------------------------------ training
    def train(self, est: Any, X: np.ndarray, y: np.ndarray, epochs: int) -> Any:
        """``epochs`` local passes over (X, y), starting from ``est``'s weights."""
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message="Got `batch_size`")
            if hasattr(est, "partial_fit"):
                for _ in range(epochs):
                    if self.classes is not None:
                        est.partial_fit(X, y, classes=self.classes)
                    else:
                        est.partial_fit(X, y)
                return est
            return self._lbfgs(est, X, y, epochs)

    def _lbfgs(self, est: Any, X: np.ndarray, y: np.ndarray, epochs: int) -> Any:
        """LogisticRegression, warm-started. A site that lacks some classes adds one
        all-zero row per missing class with sample weight 0: it changes nothing in the
        loss but keeps the class list (and so the weight shapes) the federation's."""
        assert self.classes is not None
        est.max_iter = LBFGS_ITERATIONS_PER_EPOCH * epochs
        missing = np.setdiff1d(self.classes, y)
        weights = np.ones(len(y))
        if len(missing):
            X = np.vstack([X, np.zeros((len(missing), X.shape[1]))])
            y = np.concatenate([y, missing])
            weights = np.concatenate([weights, np.zeros(len(missing))])
        est.fit(X, y, sample_weight=weights)
        return est


def make_spec(model: Any, n_features: int, labels: Sequence[np.ndarray], seed: int
              ) -> ModelSpec:
    """The spec of ``model`` for ``n_features`` features; the class list is the union of
    the sites' labels (sites of a real federation agree on it up front)."""
    template = estimator_for(model, seed)
    regressor = type(template).__name__ == "MLPRegressor"
    if regressor:
        for y in labels:
            if not np.issubdtype(np.asarray(y).dtype, np.number):
                raise InvalidInput("an MLPRegressor needs numeric targets")
        return ModelSpec(template=template, n_features=n_features, classes=None)
    classes = np.unique(np.concatenate([np.asarray(y) for y in labels]))
    if len(classes) < 2:
        raise InvalidInput(f"the sites hold a single class ({classes[0]!r}) between them: "
                           "a classifier needs at least two")
    return ModelSpec(template=template, n_features=n_features, classes=classes)
