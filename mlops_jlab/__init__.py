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
    log_output,
    log_param,
    log_params,
    search_runs,
    set_experiment,
    set_tag,
    set_tags,
    start_run,
)
from .client.automation import run_notebook, run_pipeline, sweep
from .client.automl import automl
from .client.batch import batch_predict
from .client.explain import explain, get_explanation, list_explanations
from .client.federated import federated
from .client.governance import (
    approve,
    audit,
    cancel_promotion,
    export_audit,
    get_promotion,
    grant,
    issue_token,
    model_card,
    permissions,
    policy,
    promotions,
    reject,
    request_promotion,
    set_intended_use,
    set_permissions,
    set_policy,
    users,
    verify_audit,
    whoami,
)
from .client.monitoring import (
    acknowledge_alert,
    alert_rules,
    alerts,
    drift_history,
    drift_report,
    evaluate_alerts,
    log_feedback,
    performance,
    set_alert_rules,
)
from .client.registry import (
    Lineage,
    VersionComparison,
    archive_model_version,
    compare_versions,
    create_registered_model,
    delete_alias,
    get_model_version,
    get_registered_model,
    get_validation_rules,
    lineage,
    list_model_versions,
    list_models,
    load_model,
    register_model,
    set_alias,
    set_validation_rules,
    update_model_version,
    update_registered_model,
    validate,
)
from .client.run import Run
from .client.scheduling import (
    create_schedule,
    delete_schedule,
    get_schedule,
    pause_schedule,
    resume_schedule,
    schedule_history,
    schedules,
    update_schedule,
)
from .client.serving import (
    DeploymentHandle,
    deploy,
    deployment_stats,
    deployments,
    get_deployment,
    rotate_token,
)
from .errors import (
    ApprovalRequired,
    ConfigurationError,
    Conflict,
    FilterError,
    InvalidInput,
    MlopsError,
    NotFound,
    PermissionDenied,
    PipelineError,
    RuleViolation,
    SchemaMismatch,
    UntrustedModel,
)
from .widgets import compare, runs_widget


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
    "ApprovalRequired",
    "ConfigurationError",
    "Conflict",
    "DeploymentHandle",
    "FilterError",
    "InvalidInput",
    "Lineage",
    "MlopsError",
    "NotFound",
    "PermissionDenied",
    "PipelineError",
    "RuleViolation",
    "Run",
    "SchemaMismatch",
    "UntrustedModel",
    "VersionComparison",
    "__version__",
    "acknowledge_alert",
    "active_run",
    "alert_rules",
    "alerts",
    "approve",
    "archive_model_version",
    "audit",
    "automl",
    "backend",
    "batch_predict",
    "cancel_promotion",
    "compare",
    "compare_versions",
    "configure",
    "create_experiment",
    "create_registered_model",
    "create_schedule",
    "delete_alias",
    "delete_schedule",
    "deploy",
    "deployment_stats",
    "deployments",
    "drift_history",
    "drift_report",
    "end_run",
    "evaluate_alerts",
    "explain",
    "export_audit",
    "federated",
    "get_deployment",
    "get_experiment",
    "get_explanation",
    "get_model_version",
    "get_promotion",
    "get_registered_model",
    "get_run",
    "get_schedule",
    "get_validation_rules",
    "grant",
    "issue_token",
    "lineage",
    "list_experiments",
    "list_explanations",
    "list_model_versions",
    "list_models",
    "load_model",
    "log_artifact",
    "log_dataset",
    "log_feedback",
    "log_metric",
    "log_metrics",
    "log_output",
    "log_param",
    "log_params",
    "model_card",
    "pause_schedule",
    "performance",
    "permissions",
    "policy",
    "promotions",
    "register_model",
    "reject",
    "request_promotion",
    "resume_schedule",
    "rotate_token",
    "run_notebook",
    "run_pipeline",
    "runs_widget",
    "schedule_history",
    "schedules",
    "search_runs",
    "set_alert_rules",
    "set_alias",
    "set_experiment",
    "set_intended_use",
    "set_permissions",
    "set_policy",
    "set_tag",
    "set_tags",
    "set_validation_rules",
    "start_run",
    "sweep",
    "update_model_version",
    "update_registered_model",
    "update_schedule",
    "users",
    "validate",
    "verify_audit",
    "whoami",
]
