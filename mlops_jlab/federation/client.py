"""A site's side of the federation: its data, its training, its evaluation.

A :class:`SiteClient` holds one site's rows, split once into a training part and a
held-out part. It answers each :class:`~.messages.Instruction` with a
:class:`~.messages.SiteMessage` — parameters, a count and metric scalars — which is all
that ever leaves it.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInput
from .messages import Instruction, SiteMessage
from .sites import Site
from .weights import ModelSpec


def standardise(X: np.ndarray, scaler: tuple[np.ndarray, ...]) -> np.ndarray:
    """``X`` scaled by the federation's agreed (mean, scale); unchanged without one."""
    if not scaler:
        return X
    mean, scale = scaler
    return (X - mean) / scale


def score(spec: ModelSpec, est: object, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The headline metric and the loss of ``est`` on (X, y): accuracy and log loss
    for a classifier, R² and mean squared error for a regressor."""
    from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score

    if spec.classes is not None:
        proba = est.predict_proba(X)  # type: ignore[attr-defined]
        predicted = spec.classes[np.argmax(proba, axis=1)]
        return {"accuracy": float(accuracy_score(y, predicted)),
                "loss": float(log_loss(y, proba, labels=spec.classes))}
    predicted = est.predict(X)  # type: ignore[attr-defined]
    r2 = float(r2_score(y, predicted)) if len(y) > 1 else float("nan")
    return {"r2": r2, "loss": float(mean_squared_error(y, predicted))}


class SiteClient:
    """One site. ``test_size`` of its rows (at least one) are held out for evaluation;
    the split is stratified when every class has two rows or more."""

    def __init__(self, site: Site, spec: ModelSpec, test_size: float, seed: int) -> None:
        self.name = site.name
        self.spec = spec
        self.X_train, self.X_test, self.y_train, self.y_test = _split(site, spec, test_size,
                                                                      seed)

    def __repr__(self) -> str:
        return (f"<SiteClient {self.name!r}: {len(self.y_train)} training rows, "
                f"{len(self.y_test)} held out>")

    def handle(self, instruction: Instruction) -> SiteMessage:
        """Answer one instruction (the only entry point either engine calls)."""
        if instruction.action == "statistics":
            return self.statistics()
        if instruction.action == "train":
            return self.train(instruction)
        if instruction.action == "evaluate":
            return self.evaluate(instruction)
        raise InvalidInput(f"unknown instruction {instruction.action!r}")

    def statistics(self) -> SiteMessage:
        """Per-feature mean and (population) variance of the training rows."""
        X = self.X_train
        return SiteMessage.build(self.name, [X.mean(axis=0), X.var(axis=0)], len(X))

    def train(self, instruction: Instruction) -> SiteMessage:
        """Start from the global parameters, train ``local_epochs`` on the local rows,
        send the new parameters with the training loss before and after."""
        X = standardise(self.X_train, instruction.scaler)
        est = self.spec.build(instruction.params)
        if hasattr(est, "random_state") and not isinstance(est.random_state, np.random.RandomState):
            # a different shuffle per site and round, reproducible from the seed
            est.random_state = _seed(instruction.seed, self.name, instruction.round)
        before = score(self.spec, est, X, self.y_train)["loss"]
        est = self.spec.train(est, X, self.y_train, instruction.local_epochs)
        after = score(self.spec, est, X, self.y_train)["loss"]
        return SiteMessage.build(self.name, self.spec.get_params(est), len(self.y_train),
                                 {"train_loss_before": before, "train_loss": after})

    def evaluate(self, instruction: Instruction) -> SiteMessage:
        """Score the global parameters on the held-out rows."""
        est = self.spec.build(instruction.params)
        metrics = score(self.spec, est, standardise(self.X_test, instruction.scaler),
                        self.y_test)
        return SiteMessage.build(self.name, [], len(self.y_test), metrics)


def _seed(seed: int, name: str, round_: int) -> int:
    import zlib

    return (seed * 1_000_003 + zlib.crc32(name.encode()) + round_ * 7919) % (2**31 - 1)


def _split(site: Site, spec: ModelSpec, test_size: float, seed: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    n = site.rows
    held = max(1, round(n * test_size))
    if n - held < 2:
        raise InvalidInput(f"site {site.name!r} has {n} row(s): it needs at least 2 to train "
                           f"on and 1 to evaluate on (test_size={test_size})")
    stratify = None
    if spec.classes is not None:
        _, counts = np.unique(site.y, return_counts=True)
        if counts.min() >= 2 and held >= len(counts) and n - held >= len(counts):
            stratify = site.y
    X_train, X_test, y_train, y_test = train_test_split(
        site.X, site.y, test_size=held, random_state=seed, stratify=stratify)
    return X_train, X_test, y_train, y_test
