"""``mlops.federated``: train one model across sites whose rows stay at the sites.

The front door of :mod:`mlops_jlab.federation`: checks the input, builds one client per
site, runs the protocol on the chosen engine, tracks it (parent run + one child run per
round) and registers the global model when asked. Flower and Ray are imported only for
``engine="flower"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput

if TYPE_CHECKING:
    from ..federation.messages import Instruction, SiteMessage
    from ..federation.result import FederatedResult

ENGINES = ("flower", "local")


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{what} must be an integer >= 1, got {value!r}")
    return value


def federated(sites: Mapping[str, Any], *, model: Any = "logistic", rounds: int = 10,
              local_epochs: int = 1, dp: Mapping[str, float] | None = None,
              target: str | None = None, register: str | None = None,
              experiment: str | None = None, engine: str = "flower", seed: int = 0,
              test_size: float = 0.2, standardize: bool = True,
              compare_centralized: bool = False, name: str | None = None,
              on_message: Callable[[Instruction, SiteMessage], None] | None = None,
              ) -> FederatedResult:
    """Train ``model`` with FedAvg across ``sites``; see the module doc.

    ``sites``: name → DataFrame (with ``target=`` its label column) or name → (X, y),
    at least two, same feature columns. ``model``: ``"logistic"``, ``"sgd"``, ``"mlp"``
    or an unfitted ``LogisticRegression``/``SGDClassifier``/``MLPClassifier``/
    ``MLPRegressor``. Each site holds out ``test_size`` of its rows to evaluate the
    global model every round. ``dp={"clip": 1.0, "noise_multiplier": 0.5}`` clips each
    site's update and adds Gaussian noise to the aggregate (no epsilon is computed).
    ``standardize`` pools the sites' feature means and variances (aggregates, never
    rows) into one scaler. ``engine``: ``"flower"`` (Flower's simulation engine on Ray,
    ~10 s to start) or ``"local"`` (the same code in this process).
    ``compare_centralized`` also trains the model on the pooled rows (possible only in
    a simulation) and reports the gap. ``on_message(instruction, message)`` sees every
    message a site sends (an audit hook). ``register`` names the registered model.
    """
    from ..federation.client import SiteClient
    from ..federation.server import FederationServer
    from ..federation.sites import build_sites
    from ..federation.strategy import DPConfig, FedAvg
    from ..federation.weights import make_spec

    rounds = _positive_int(rounds, "rounds")
    local_epochs = _positive_int(local_epochs, "local_epochs")
    if engine not in ENGINES:
        raise InvalidInput(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput(f"seed must be a non-negative integer, got {seed!r}")
    if (isinstance(test_size, bool) or not isinstance(test_size, (int, float))
            or not math.isfinite(test_size) or not 0 < test_size < 1):
        raise InvalidInput(f"test_size must be a fraction between 0 and 1, got {test_size!r}")
    if register is not None and (not isinstance(register, str) or not register.strip()):
        raise InvalidInput(f"register must be a model name, got {register!r}")
    privacy = DPConfig.parse(dp)
    built = build_sites(sites, target)
    names = [s.name for s in built]
    named = _has_column_names(next(iter(sites.values())))
    spec = make_spec(model, len(built[0].columns), [s.y for s in built], seed)
    clients = {s.name: SiteClient(s, spec, float(test_size), seed) for s in built}
    if engine == "flower":
        from ..federation.flower import _flwr

        _flwr()  # a clear error before any run is created when Flower is missing
    kind = model if isinstance(model, str) else spec.kind_name
    params: dict[str, Any] = {"model": kind, "estimator": spec.kind_name, "rounds": rounds,
                              "sites": len(built), "site_names": ",".join(names),
                              "local_epochs": local_epochs, "engine": engine,
                              "seed": seed, "test_size": test_size,
                              "standardize": standardize, "dp": privacy is not None,
                              "rows": sum(s.rows for s in built)}
    if privacy is not None:
        params.update(privacy.as_params())
    from ..federation.tracking import FederationTracker

    tracker = FederationTracker(name=name or f"federated-{kind}", experiment=experiment,
                                params=params, sites=names)
    server = FederationServer(spec, FedAvg(privacy, seed), names, rounds=rounds,
                              local_epochs=local_epochs, seed=seed, standardize=standardize,
                              on_message=on_message, on_round=tracker.on_round)
    try:
        return _run(server, clients, tracker, spec=spec, engine=engine, kind=kind,
                    privacy=privacy, register=register, named=named,
                    columns=list(built[0].columns), compare_centralized=compare_centralized,
                    rounds=rounds, local_epochs=local_epochs, seed=seed)
    except BaseException as exc:
        tracker.fail(exc)
        raise


def _has_column_names(data: Any) -> bool:
    """Whether a site came as a DataFrame (or an (X DataFrame, y) pair)."""
    import pandas as pd

    if isinstance(data, (tuple, list)):
        return isinstance(data[0], pd.DataFrame)
    return isinstance(data, pd.DataFrame)


def _run(server: Any, clients: Mapping[str, Any], tracker: Any, *, spec: Any, engine: str,
         kind: str, privacy: Any, register: str | None, named: bool, columns: list[str],
         compare_centralized: bool, rounds: int, local_epochs: int, seed: int
         ) -> FederatedResult:
    import time

    import pandas as pd

    from ..federation.result import FederatedResult, history_frame

    started = time.perf_counter()
    timings: dict[str, float] = {}
    if engine == "flower":
        from ..federation.flower import run_flower

        records, timings = run_flower(server, clients)
    else:
        from ..federation.engine import run_local

        records = run_local(server, clients)
        timings = {"total_s": time.perf_counter() - started}
    timings["round_s"] = sum(r.seconds for r in records) / len(records)
    history = history_frame(records)
    reference = None
    if compare_centralized:
        from ..federation.baseline import centralized

        _, reference = centralized(clients, server.scaler, rounds * local_epochs, seed)
    model = server.final_model(columns if named else None)
    result = FederatedResult(
        global_model=model, history=history, run_id=tracker.run_id, sites=server.sites,
        score=spec.score_name, engine=engine, centralized=reference, timings=timings,
        settings={"model": kind, "local_epochs": local_epochs,
                  "dp": None if privacy is None else {
                      "clip": privacy.clip, "noise_multiplier": privacy.noise_multiplier}})
    final = {f"final_{spec.score_name}": result.final_score,
             "bytes_received": float(server.bytes_received),
             **{f"time.{k}": v for k, v in timings.items()}}
    if reference is not None:
        final.update({f"centralized_{k}": v for k, v in reference.items()})
        final[f"{spec.score_name}_gap"] = float(result.gap or 0.0)
    # a privacy-safe input example: one row of the pooled feature means (an aggregate)
    if server.scaler:
        example_row = server.scaler[0]
    else:
        import numpy as np

        example_row = np.zeros(spec.n_features)
    example = (pd.DataFrame([example_row], columns=columns) if named
               else example_row.reshape(1, -1))
    result.model_version = tracker.finish(history=history, figure=result.figure(),
                                          model=model, input_example=example, final=final,
                                          register=register)
    return result
