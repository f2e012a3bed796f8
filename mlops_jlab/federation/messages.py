"""The only things that cross between the server and a site.

The server sends an :class:`Instruction` (the global parameters and what to do with
them); a site answers with a :class:`SiteMessage`: parameter arrays, the number of
examples they come from and metric scalars. Nothing else leaves a site: both engines
carry exactly these two types (Flower as ``ArrayRecord`` + ``MetricRecord``), and the
server rejects a reply that holds anything else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..errors import InvalidInput

Action = Literal["statistics", "train", "evaluate"]
ACTIONS: tuple[Action, ...] = ("statistics", "train", "evaluate")


@dataclass(frozen=True)
class Instruction:
    """Server → site: one step of a round.

    ``statistics``: report the per-feature mean and variance of your training split
    (to standardise features the same way everywhere); ``train``: start from ``params``,
    train ``local_epochs`` on your rows, send the new parameters; ``evaluate``: score
    ``params`` on your held-out rows. ``scaler`` is the agreed (mean, scale) pair.
    """

    action: Action
    round: int
    params: tuple[np.ndarray, ...] = ()
    scaler: tuple[np.ndarray, ...] = ()
    local_epochs: int = 1
    seed: int = 0


@dataclass(frozen=True)
class SiteMessage:
    """Site → server: everything a site ever sends. ``params`` are float arrays (model
    parameters, or per-feature statistics in the statistics step), ``examples`` the
    number of rows behind them, ``metrics`` named scalars. ``site`` is the sender's
    name (its address, not its data)."""

    site: str
    params: tuple[np.ndarray, ...]
    examples: int
    metrics: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, site: str, params: Sequence[np.ndarray], examples: int,
              metrics: Mapping[str, float] | None = None) -> SiteMessage:
        """A message with its contents checked and copied: float64 arrays, a
        non-negative integer count, finite float metrics."""
        arrays = tuple(np.array(p, dtype=np.float64, copy=True) for p in params)
        if isinstance(examples, bool) or int(examples) != examples or examples < 0:
            raise InvalidInput(f"site {site!r}: examples must be a count, got {examples!r}")
        clean: dict[str, float] = {}
        for key, value in (metrics or {}).items():
            number = float(value)
            if not math.isfinite(number):
                number = float("nan")
            clean[str(key)] = number
        return cls(site=site, params=arrays, examples=int(examples), metrics=clean)

    @property
    def nbytes(self) -> int:
        """Bytes of payload: the arrays plus 8 per scalar (count and metrics)."""
        return sum(int(p.nbytes) for p in self.params) + 8 * (1 + len(self.metrics))
