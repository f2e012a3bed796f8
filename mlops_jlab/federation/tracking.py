"""The federation as tracked runs.

A parent run (tag ``mlops.runner=federated``) with the settings as params, the global
metrics as histories (step = round), the round table ``federated/rounds.csv``, the chart
``charts/rounds.json``, and the global model under ``model/``. One child run per round
(tag ``mlops.federated_round=<n>``) with each site's metrics (``site.<name>.accuracy``,
``.loss``, ``.examples``…) and the global ones (``global_accuracy``, ``global_loss``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..client.run import Run
from .server import RoundRecord


class FederationTracker:
    """Records one federation; ``on_round`` is called from the engine's server side
    (a thread of this process under Flower)."""

    def __init__(self, *, name: str, experiment: str | None, params: Mapping[str, Any],
                 sites: list[str]) -> None:
        from ..client import api

        self.sites = sites
        self.parent: Run = api.start_run(name=name, experiment=experiment,
                                         params=dict(params),
                                         tags={"mlops.runner": "federated",
                                               "mlops.federated_sites": ",".join(sites)})
        self._backend = api.backend()

    @property
    def run_id(self) -> str:
        return self.parent.id

    def on_round(self, record: RoundRecord) -> None:
        """A finished child run for the round; the global metrics on the parent."""
        b = self._backend
        info = b.create_run(experiment=self.parent.experiment_id,
                            name=f"{self.parent.name}-round-{record.round}",
                            params={"round": record.round},
                            tags={"mlops.runner": "federated-round",
                                  "mlops.federated_round": str(record.round),
                                  "mlops.federated_parent": self.parent.id},
                            parent_run_id=self.parent.id)
        child = Run(b, info.id, info.name, info.experiment_id)
        metrics: dict[str, float] = dict(record.global_metrics)
        for site, values in record.sites.items():
            for key, value in values.items():
                metrics[f"site.{site}.{key}"] = value
        metrics.update({f"aggregation.{k}": v for k, v in record.aggregation.items()})
        metrics.update(seconds=record.seconds, bytes_received=float(record.bytes_received))
        child.log_metrics(_finite(metrics), step=record.round)
        child.end("finished")
        on_parent = dict(record.global_metrics)
        on_parent.update({k: v for k, v in metrics.items()
                          if k.startswith("site.") and not k.endswith("_examples")
                          and not k.endswith(".examples")})
        self.parent.log_metrics(_finite(on_parent), step=record.round)

    def finish(self, *, history: Any, figure: Any, model: Any, input_example: Any,
               final: Mapping[str, float], register: str | None) -> Any:
        """Store the table, chart and model; register it when asked; end the run.
        Returns the registered model version (or None)."""
        from ..client.registry import register_model

        run = self.parent
        run.log_metrics(_finite(dict(final)))
        run.log_text(history.to_csv(index=False), "federated/rounds.csv")
        run.log_figure(figure, "charts/rounds.json")
        run.log_model(model, "model", input_example=input_example)
        version = register_model(run, register) if register else None
        run.end("finished")
        return version

    def fail(self, exc: BaseException) -> None:
        status = "killed" if isinstance(exc, KeyboardInterrupt) else "failed"
        self.parent.end(status, error=f"{type(exc).__name__}: {exc}")


def _finite(metrics: Mapping[str, float]) -> dict[str, float]:
    """NaN stays (stored as missing); numpy scalars become floats."""
    return {k: float(v) for k, v in metrics.items()
            if isinstance(v, (int, float, np.floating, np.integer))}
