"""Python API of monitoring: drift reports, ground-truth feedback, live performance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..errors import InvalidInput, NotFound
from ..monitoring import DriftReference, DriftReport
from ..monitoring import drift_report as _drift
from .api import backend
from .serving import DeploymentHandle, parse_model_ref


def drift_report(target: Any, current: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
                 *, window: str | None = None, rows: int | None = None,
                 tests: Mapping[str, Any] | None = None, drift_share: float = 0.5,
                 store: bool = True) -> DriftReport:
    """Data drift, column by column, with Evidently's default tests.

    - ``drift_report("churn-prod", window="1h")``: a deployment's logged inputs (the
      last hour, or the newest ``rows``) against the training data of the version it
      serves; kept in the deployment's drift history (``store=False`` to skip).
    - ``drift_report("churn@production", current=df)``: ``df`` against a model
      version's training data (or ``"churn/3"``, or a deployment name).
    - ``drift_report(reference_df, current_df)``: two DataFrames (``current`` may be an
      iterable of chunks, streamed in bounded memory).

    The report has ``.summary``, ``.to_frame()``, ``.figure()``, ``.save_html(path)``
    and renders itself in a notebook.
    """
    monitoring = backend().monitoring
    if isinstance(target, DeploymentHandle):
        target = target.name
    if isinstance(target, str):
        if current is None:
            return monitoring.drift(target, window=window, rows=rows, tests=tests,
                                    drift_share=drift_share, store=store,
                                    user=backend().user)
        try:
            dep = backend().serving.get(target)
            model, ref = dep.model, dep.main_version
        except (NotFound, InvalidInput):
            model, parsed = parse_model_ref(target, None)
            ref = parsed
        _version, reference = monitoring.reference(model, ref)
        return _drift(reference, current, tests=tests, drift_share=drift_share)
    if current is None:
        raise InvalidInput("give the current data (current=DataFrame) to compare with this "
                           "reference, or a deployment name to read its prediction log")
    if not isinstance(target, (pd.DataFrame, DriftReference, dict)):
        raise InvalidInput("the reference must be a deployment name, a model reference "
                           "(NAME@ALIAS, NAME/VERSION), a DataFrame or a dataset profile")
    return _drift(target, current, tests=tests, drift_share=drift_share)


def drift_history(deployment: str, limit: int = 100) -> pd.DataFrame:
    """Stored drift reports of a deployment, newest first: one row per report with the
    share of drifted columns and the drifted columns' names."""
    rows = backend().monitoring.drift_history(deployment, limit)
    return pd.DataFrame([{
        "computed_at": pd.to_datetime(r["computed_at"], unit="ms"),
        "version": r["version"], "rows": r["rows"], "share": r["share"],
        "dataset_drift": r["dataset_drift"],
        "drifted": ", ".join(c["column"] for c in r["columns"] if c.get("drifted"))}
        for r in rows], columns=["computed_at", "version", "rows", "share", "dataset_drift",
                                 "drifted"])


def log_feedback(deployment: str | DeploymentHandle, request_ids: Sequence[str] | str,
                 labels: Sequence[Any] | Any) -> dict[str, int]:
    """Ground truth for logged predictions, by request id (the ``request_id`` of each
    answer). One label per predicted row: a list for a multi-row request. Returns how
    many were stored and how many matched a logged prediction already."""
    name = deployment.name if isinstance(deployment, DeploymentHandle) else deployment
    if isinstance(request_ids, str):
        request_ids, labels = [request_ids], [labels]
    b = backend()
    return b.monitoring.log_feedback(name, list(request_ids), list(labels), b.user)


def performance(deployment: str | DeploymentHandle, window: str = "7d",
                bucket: str | None = None, task: str | None = None) -> pd.DataFrame:
    """Metrics of labelled predictions per model version (shadow versions included):
    accuracy and macro F1, or RMSE and MAE; per ``bucket`` of time (e.g. ``"1h"``)."""
    name = deployment.name if isinstance(deployment, DeploymentHandle) else deployment
    frame = backend().monitoring.performance(name, window=window, bucket=bucket, task=task)
    if len(frame):
        frame["bucket_start"] = pd.to_datetime(frame["bucket_start"], unit="ms")
    return frame


def set_alert_rules(deployment: str | DeploymentHandle,
                    rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Replace a deployment's alert rules. Each rule: ``kind`` (drift_share, column_drift,
    metric, latency_p99, error_rate), ``threshold``, ``window`` ("1h"), ``cooldown``
    ("30m"), and as needed ``column``, ``metric`` (accuracy, f1, rmse, mae), ``webhook``
    (a public http(s) URL), ``action`` ({"type": "retrain", "parameters": {...}})."""
    name = deployment.name if isinstance(deployment, DeploymentHandle) else deployment
    b = backend()
    return b.alerts.set_rules(name, list(rules), b.user)


def alert_rules(deployment: str | DeploymentHandle) -> list[dict[str, Any]]:
    """A deployment's alert rules."""
    name = deployment.name if isinstance(deployment, DeploymentHandle) else deployment
    return backend().alerts.rules(name)


def alerts(deployment: str | None = None, status: str | None = None) -> pd.DataFrame:
    """Alerts, newest first (``status``: firing, acknowledged, resolved or open)."""
    rows = backend().alerts.alerts(deployment, status)
    frame = pd.DataFrame(rows, columns=["id", "deployment", "kind", "status", "message",
                                        "value", "threshold", "fired_at", "resolved_at",
                                        "acknowledged_by", "rule_id", "data"])
    for col in ("fired_at", "resolved_at"):
        frame[col] = pd.to_datetime(frame[col], unit="ms")
    return frame


def acknowledge_alert(alert_id: str) -> dict[str, Any]:
    """Mark a firing alert as being handled."""
    b = backend()
    return b.alerts.acknowledge(alert_id, b.user)


def evaluate_alerts(deployment: str | DeploymentHandle | None = None,
                    wait: bool = True) -> list[dict[str, Any]]:
    """Evaluate alert rules now (the server's monitor loop does it on a schedule); the
    alerts that fired or resolved. ``wait``: also wait for their actions (retraining)."""
    name = deployment.name if isinstance(deployment, DeploymentHandle) else deployment
    b = backend()
    changed = b.alerts.evaluate(name, user=b.user)
    if wait:
        b.alerts.wait_for_actions()
        changed = [b.alerts.get_alert(a["id"]) for a in changed]
    return changed
