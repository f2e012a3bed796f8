"""Federated learning: one model trained across sites whose data never leaves them.

Each site is a client that trains on its own rows and sends back only model parameters,
example counts and metric scalars (:class:`~.messages.SiteMessage`); the server averages
the parameters (FedAvg, optionally with central differential-privacy noise) round after
round. Two engines drive the same client and strategy code: Flower's simulation engine
(``engine="flower"``, Ray actors play the sites) and an in-process loop
(``engine="local"``). ``mlops.federated(...)`` is the front door
(:mod:`mlops_jlab.client.federated`).
"""

from __future__ import annotations

from .messages import Instruction, SiteMessage
from .sites import Site, split_by_column
from .strategy import DPConfig, FedAvg, fedavg

__all__ = ["DPConfig", "FedAvg", "Instruction", "Site", "SiteMessage", "fedavg",
           "split_by_column"]
