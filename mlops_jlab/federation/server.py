"""The server's side of a federation, the same whichever engine carries the messages.

:meth:`FederationServer.run` takes an ``exchange`` function — send one
:class:`~.messages.Instruction` to every site, return their
:class:`~.messages.SiteMessage` replies by site — and runs the protocol over it:

0. *statistics*: each site reports per-feature mean and variance; the server pools them
   into the scaler every site then uses (skipped with ``standardize=False``);
1. for each round: *train* (sites start from the global parameters and send theirs
   back; FedAvg combines them) then *evaluate* (sites score the new global parameters
   on their held-out rows; the global score is their example-weighted average).

Every reply passes through :meth:`FederationServer.receive`, which checks that it
holds what the step allows and nothing else (shapes, counts, metric scalars) and hands
it to the ``on_message`` audit hook.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInput
from .messages import Instruction, SiteMessage
from .strategy import FedAvg, pooled_scaler
from .weights import ModelSpec

Exchange = Callable[[Instruction], Mapping[str, SiteMessage]]
MessageHook = Callable[[Instruction, SiteMessage], None]


class FederationError(RuntimeError):
    """A site failed or answered outside the protocol."""


@dataclass
class RoundRecord:
    """What one round produced: per-site and global metrics, the aggregation facts."""

    round: int
    sites: dict[str, dict[str, float]]
    global_metrics: dict[str, float]
    aggregation: dict[str, float]
    seconds: float
    bytes_received: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class FederationServer:
    """Global parameters, the strategy and the round loop (see the module doc)."""

    def __init__(self, spec: ModelSpec, strategy: FedAvg, sites: Sequence[str], *,
                 rounds: int, local_epochs: int, seed: int, standardize: bool = True,
                 on_message: MessageHook | None = None,
                 on_round: Callable[[RoundRecord], None] | None = None) -> None:
        self.spec = spec
        self.strategy = strategy
        self.sites = list(sites)
        self.rounds = rounds
        self.local_epochs = local_epochs
        self.seed = seed
        self.standardize = standardize
        self.params: list[np.ndarray] = spec.initial_params(seed)
        self.shapes = [p.shape for p in self.params]
        self.scaler: tuple[np.ndarray, ...] = ()
        self.history: list[RoundRecord] = []
        self.bytes_received = 0
        self.statistics_rows = 0
        self._on_message = on_message
        self._on_round = on_round

    # ------------------------------------------------------------------ protocol
    def run(self, exchange: Exchange) -> list[RoundRecord]:
        """The whole protocol over ``exchange``; returns one record per round."""
        if self.standardize:
            ask = Instruction("statistics", 0)
            replies = self._gather(ask, exchange(ask))
            self.scaler = pooled_scaler(list(replies.values()))
            self.statistics_rows = sum(r.examples for r in replies.values())
        for round_ in range(1, self.rounds + 1):
            started = time.perf_counter()
            before = self.bytes_received
            train = Instruction("train", round_, tuple(self.params), self.scaler,
                                self.local_epochs, self.seed)
            trained = self._gather(train, exchange(train))
            self.params, info = self.strategy.aggregate(
                self.params, [trained[s] for s in self.sites])
            evaluate = Instruction("evaluate", round_, tuple(self.params), self.scaler)
            scored = self._gather(evaluate, exchange(evaluate))
            record = self._record(round_, trained, scored, info,
                                  time.perf_counter() - started)
            record.bytes_received = self.bytes_received - before
            self.history.append(record)
            if self._on_round is not None:
                self._on_round(record)
        return self.history

    def _gather(self, instruction: Instruction, replies: Mapping[str, SiteMessage]
                ) -> dict[str, SiteMessage]:
        missing = [s for s in self.sites if s not in replies]
        if missing:
            raise FederationError(f"round {instruction.round} ({instruction.action}): no "
                                  f"answer from site(s) {missing}")
        return {s: self.receive(instruction, replies[s]) for s in self.sites}

    def receive(self, instruction: Instruction, message: SiteMessage) -> SiteMessage:
        """Accept one site's reply if it holds what ``instruction`` asked for: parameter
        arrays of the model's shapes (train), two per-feature vectors (statistics) or no
        arrays (evaluate); a count; scalar metrics."""
        if not isinstance(message, SiteMessage):
            raise FederationError(f"a site answered with {type(message).__name__}, not a "
                                  "SiteMessage")
        if message.site not in self.sites:
            raise FederationError(f"reply from unknown site {message.site!r}")
        expected: list[tuple[int, ...]]
        if instruction.action == "train":
            expected = [tuple(s) for s in self.shapes]
        elif instruction.action == "statistics":
            expected = [(self.spec.n_features,)] * 2
        else:
            expected = []
        got = [tuple(p.shape) for p in message.params]
        if got != expected:
            raise FederationError(f"site {message.site!r} sent arrays of shapes {got} for "
                                  f"{instruction.action}; expected {expected}")
        if any(not np.isfinite(p).all() for p in message.params):
            raise FederationError(f"site {message.site!r} sent non-finite parameters")
        self.bytes_received += message.nbytes
        if self._on_message is not None:
            self._on_message(instruction, message)
        return message

    def _record(self, round_: int, trained: Mapping[str, SiteMessage],
                scored: Mapping[str, SiteMessage], info: dict[str, float],
                seconds: float) -> RoundRecord:
        name = self.spec.score_name
        sites: dict[str, dict[str, float]] = {}
        for site in self.sites:
            sites[site] = {**{k: float(v) for k, v in scored[site].metrics.items()},
                           "examples": float(trained[site].examples),
                           "eval_examples": float(scored[site].examples),
                           "train_loss": float(trained[site].metrics.get("train_loss",
                                                                         np.nan))}
        total = sum(scored[s].examples for s in self.sites)
        global_metrics = {
            f"global_{name}": _weighted(scored, self.sites, name, total),
            "global_loss": _weighted(scored, self.sites, "loss", total),
        }
        return RoundRecord(round=round_, sites=sites, global_metrics=global_metrics,
                           aggregation=info, seconds=seconds)

    # ------------------------------------------------------------------ result
    def final_model(self, feature_names: Sequence[str] | None = None) -> Any:
        """The global model as one scikit-learn Pipeline: the pooled scaler (when
        standardising) and the estimator holding the global parameters.
        ``feature_names`` (the sites' DataFrame columns) let it take DataFrames."""
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        est = self.spec.build(self.params)
        names = None if feature_names is None else np.array(list(feature_names),
                                                                 dtype=object)
        if not self.scaler:
            if names is not None:
                est.feature_names_in_ = names
            return est
        mean, scale = self.scaler
        scaler = StandardScaler()
        scaler.mean_, scaler.scale_, scaler.var_ = mean, scale, scale ** 2
        scaler.n_features_in_ = self.spec.n_features
        scaler.n_samples_seen_ = self.statistics_rows
        if names is not None:
            scaler.feature_names_in_ = names
        return Pipeline([("scale", scaler), ("model", est)])


def _weighted(scored: Mapping[str, SiteMessage], sites: Sequence[str], key: str,
              total: int) -> float:
    if total <= 0:
        raise InvalidInput("no site has held-out rows to evaluate on")
    values = [(scored[s].metrics.get(key, np.nan), scored[s].examples) for s in sites]
    present = [(v, n) for v, n in values if v == v]
    if not present:
        return float("nan")
    return float(sum(v * n for v, n in present) / sum(n for _, n in present))
