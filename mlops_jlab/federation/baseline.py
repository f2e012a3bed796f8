"""The centralized reference: the same model trained on all sites' rows pooled.

Only possible in a simulation (a real federation cannot pool its data); it measures
what federating costs. The pooled model sees the same training rows, the same scaler,
the same starting weights and the same number of passes over the data
(``rounds x local_epochs``), and is scored on the union of the sites' held-out rows,
so its accuracy is directly comparable with the federation's global accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .client import SiteClient, score, standardise


def centralized(clients: Mapping[str, SiteClient], scaler: Sequence[np.ndarray],
                epochs: int, seed: int) -> tuple[Any, dict[str, float]]:
    """Train on the pooled training splits; returns the estimator and its held-out
    metrics (``accuracy``/``r2`` and ``loss``)."""
    first = next(iter(clients.values()))
    spec = first.spec
    scale = tuple(scaler)
    X = standardise(np.vstack([c.X_train for c in clients.values()]), scale)
    y = np.concatenate([c.y_train for c in clients.values()])
    X_test = standardise(np.vstack([c.X_test for c in clients.values()]), scale)
    y_test = np.concatenate([c.y_test for c in clients.values()])
    est = spec.build(spec.initial_params(seed))
    if hasattr(est, "random_state") and not isinstance(est.random_state,
                                                        np.random.RandomState):
        est.random_state = seed
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))  # sites' rows interleaved, as one table would be
    est = spec.train(est, X[order], y[order], epochs)
    return est, score(spec, est, X_test, y_test)
