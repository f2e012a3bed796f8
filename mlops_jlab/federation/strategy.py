"""How the server combines what the sites send: FedAvg, optionally with central DP.

Without DP the new global parameters are the average of the sites' parameters weighted
by their example counts (McMahan et al., 2017). With ``DPConfig(clip, noise_multiplier)``
each site's update (its parameters minus the global ones) is clipped to L2 norm
``clip`` over all arrays together, the clipped updates are averaged with equal weights
(so one site moves the average by at most ``clip / sites``), and Gaussian noise of
standard deviation ``noise_multiplier * clip / sites`` is added to the average before
it is applied (DP-FedAvg with fixed clipping, McMahan et al., 2018). No privacy
budget (epsilon) is computed: that takes an accountant over the rounds and the sampling
scheme, which this module does not implement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInput
from .messages import SiteMessage


@dataclass(frozen=True)
class DPConfig:
    """Central differential-privacy noise on the aggregated update."""

    clip: float
    noise_multiplier: float

    @classmethod
    def parse(cls, value: Any) -> DPConfig | None:
        """``None`` or ``{"clip": > 0, "noise_multiplier": >= 0}`` (else InvalidInput)."""
        if value is None:
            return None
        if isinstance(value, DPConfig):
            return value
        if not isinstance(value, Mapping):
            raise InvalidInput('dp must be None or {"clip": 1.0, "noise_multiplier": 0.5}')
        unknown = sorted(set(value) - {"clip", "noise_multiplier"})
        if unknown:
            raise InvalidInput(f"unknown dp setting(s) {unknown}: use clip and "
                               "noise_multiplier")
        clip = _number(value.get("clip", 1.0), "dp clip")
        noise = _number(value.get("noise_multiplier", 0.0), "dp noise_multiplier")
        if clip <= 0:
            raise InvalidInput(f"dp clip must be > 0, got {clip}")
        if noise < 0:
            raise InvalidInput(f"dp noise_multiplier must be >= 0, got {noise}")
        return cls(clip=clip, noise_multiplier=noise)

    def as_params(self) -> dict[str, float]:
        return {"dp_clip": self.clip, "dp_noise_multiplier": self.noise_multiplier}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            float(value)):
        raise InvalidInput(f"{what} must be a finite number, got {value!r}")
    return float(value)


def fedavg(params: Sequence[Sequence[np.ndarray]], weights: Sequence[float]
           ) -> list[np.ndarray]:
    """The weighted average of several parameter lists, array by array."""
    if not params:
        raise InvalidInput("nothing to average")
    total = float(sum(weights))
    if total <= 0:
        raise InvalidInput("the weights of an average must sum to more than 0")
    out: list[np.ndarray] = []
    for i in range(len(params[0])):
        acc = np.zeros_like(np.asarray(params[0][i], dtype=np.float64))
        for p, w in zip(params, weights, strict=True):
            acc = acc + float(w) * np.asarray(p[i], dtype=np.float64)
        out.append(acc / total)
    return out


def global_norm(arrays: Sequence[np.ndarray]) -> float:
    """The L2 norm of several arrays taken as one vector."""
    return float(math.sqrt(sum(float(np.sum(np.square(a))) for a in arrays)))


def clip_update(update: Sequence[np.ndarray], clip: float) -> tuple[list[np.ndarray], float]:
    """``update`` scaled down to L2 norm ``clip`` when it is longer; returns the clipped
    arrays and the original norm."""
    norm = global_norm(update)
    factor = min(1.0, clip / norm) if norm > 0 else 1.0
    return [np.asarray(a, dtype=np.float64) * factor for a in update], norm


class FedAvg:
    """The aggregation step of every round (see the module docstring)."""

    def __init__(self, dp: DPConfig | None = None, seed: int = 0) -> None:
        self.dp = dp
        self._rng = np.random.default_rng(seed)

    def aggregate(self, current: Sequence[np.ndarray], replies: Sequence[SiteMessage]
                  ) -> tuple[list[np.ndarray], dict[str, float]]:
        """The next global parameters from the sites' trained parameters, plus facts
        about the step (``update_norm``: the largest site update norm; with DP also
        ``clipped_sites`` and ``noise_std``)."""
        if not replies:
            raise InvalidInput("no site answered")
        updates = [[np.asarray(p) - np.asarray(c) for p, c in zip(r.params, current,
                                                                    strict=True)]
                   for r in replies]
        norms = [global_norm(u) for u in updates]
        info: dict[str, float] = {"update_norm": max(norms)}
        if self.dp is None:
            step = fedavg(updates, [r.examples for r in replies])
        else:
            clipped = [clip_update(u, self.dp.clip)[0] for u in updates]
            step = fedavg(clipped, [1.0] * len(clipped))
            std = self.dp.noise_multiplier * self.dp.clip / len(clipped)
            if std > 0:
                step = [s + self._rng.normal(0.0, std, size=s.shape) for s in step]
            info.update(clipped_sites=float(sum(n > self.dp.clip for n in norms)),
                        noise_std=std)
        return [np.asarray(c, dtype=np.float64) + s for c, s in zip(current, step,
                                                                      strict=True)], info


def pooled_scaler(replies: Sequence[SiteMessage]) -> tuple[np.ndarray, np.ndarray]:
    """The mean and standard deviation of all sites' rows together, from each site's
    (mean, variance, count): the exact pooled values, no rows needed. Constant features
    get scale 1."""
    counts = np.array([r.examples for r in replies], dtype=np.float64)
    means = np.stack([r.params[0] for r in replies])
    variances = np.stack([r.params[1] for r in replies])
    total = counts.sum()
    mean = (counts[:, None] * means).sum(axis=0) / total
    within = (counts[:, None] * variances).sum(axis=0)
    between = (counts[:, None] * (means - mean) ** 2).sum(axis=0)
    scale = np.sqrt((within + between) / total)
    scale[scale < 1e-12] = 1.0
    return mean, scale
