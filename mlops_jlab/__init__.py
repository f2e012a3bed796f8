"""mlops_jlab: notebook-native MLOps for JupyterLab.

``import mlops_jlab as mlops`` gives the Python API; ``%load_ext mlops_jlab`` the
magics; installed with JupyterLab, the server extension serves ``/mlops/api``.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .client.api import (
    active_run,
    backend,
    configure,
    create_experiment,
    end_run,
    get_experiment,
    get_run,
    list_experiments,
    log_artifact,
    log_dataset,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    search_runs,
    set_experiment,
    set_tag,
    set_tags,
    start_run,
)
from .client.run import Run
from .errors import (
    ConfigurationError,
    Conflict,
    FilterError,
    InvalidInput,
    MlopsError,
    NotFound,
    RuleViolation,
)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "mlops-jlab"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import MlopsJlab

    return [{"module": "mlops_jlab", "app": MlopsJlab}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext mlops_jlab``: register ``%%mlops_train``."""
    from .magics import load_ipython_extension as _load

    _load(ipython)


__all__ = [
    "ConfigurationError",
    "Conflict",
    "FilterError",
    "InvalidInput",
    "MlopsError",
    "NotFound",
    "RuleViolation",
    "Run",
    "__version__",
    "active_run",
    "backend",
    "configure",
    "create_experiment",
    "end_run",
    "get_experiment",
    "get_run",
    "list_experiments",
    "log_artifact",
    "log_dataset",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "start_run",
]
