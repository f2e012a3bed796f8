"""Records rebuilt from the REST API's JSON (the inverse of their ``to_dict``), so team
mode hands the faces the same types as the services do."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from ..monitoring.report import ColumnDrift, DriftReport
from ..registry.records import ModelVersion, RegisteredModel, ValidationReport
from ..serving.records import Deployment, DeploymentEvent
from ..tracking.records import Experiment, MetricPoint, Run, RunDetail, RunPage

R = TypeVar("R")


def build(cls: type[R], body: dict[str, Any]) -> R:
    """``cls`` from the keys of ``body`` that are its fields (the others, such as
    computed ``url`` or ``duration``, are left out)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in body.items() if k in names})


def experiment(body: dict[str, Any]) -> Experiment:
    return build(Experiment, body)


def run(body: dict[str, Any]) -> Run:
    return build(Run, body)


def run_detail(body: dict[str, Any]) -> RunDetail:
    return build(RunDetail, body)


def run_page(body: dict[str, Any]) -> RunPage:
    return RunPage([run(r) for r in body.get("runs", [])], body.get("next_page_token"))


def metric_points(body: dict[str, Any]) -> list[MetricPoint]:
    return [MetricPoint(p["step"], p["value"], p["timestamp"]) for p in body["history"]]


def registered_model(body: dict[str, Any]) -> RegisteredModel:
    return build(RegisteredModel, body)


def model_version(body: dict[str, Any]) -> ModelVersion:
    return build(ModelVersion, body)


def validation_report(body: dict[str, Any]) -> ValidationReport:
    return build(ValidationReport, body)


def deployment(body: dict[str, Any]) -> Deployment:
    return build(Deployment, body)


def deployment_event(body: dict[str, Any]) -> DeploymentEvent:
    return build(DeploymentEvent, body)


def drift_report(body: dict[str, Any]) -> DriftReport:
    """A drift report from ``DriftReport.to_dict()``."""
    summary = body.get("summary") or {}
    thresholds = dict(summary.get("thresholds") or {})
    drift_share = float(thresholds.pop("drift_share", 0.5))
    psi = float(thresholds.pop("psi", 0.1))
    columns = []
    for raw in body.get("columns", []):
        col = build(ColumnDrift, raw)
        if col.bounds is not None:
            col.bounds = (col.bounds[0], col.bounds[1])
        columns.append(col)
    return DriftReport(columns=columns, drift_share=drift_share, psi_threshold=psi,
                       mode=summary.get("mode", "exact"),
                       reference_rows=int(summary.get("reference_rows") or 0),
                       current_rows=int(summary.get("current_rows") or 0),
                       chunks=int(body.get("chunks") or 1),
                       reference_source=body.get("reference_source") or "dataframe",
                       thresholds={k: float(v) for k, v in thresholds.items()
                                   if isinstance(v, (int, float))},
                       extra_columns=list(body.get("extra_columns") or []),
                       context=dict(body.get("context") or {}))
