"""Python API of the model registry (re-exported by ``mlops_jlab``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import InvalidInput
from ..models.evaluation import evaluate
from ..models.loaded import LoadedModel
from ..registry import ModelVersion, RegisteredModel, ValidationReport
from ..registry.lineage import build_lineage
from ..registry.names import relative_path
from .api import backend
from .run import Run

_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))$")
_RUNS_URI = re.compile(r"^runs:/(?P<run_id>[0-9a-fA-F]{32})/(?P<path>.+)$")


def register_model(run: Run | str, name: str, model_path: str = "model") -> ModelVersion:
    """Register the model a run logged (``run.log_model``) as the next version of ``name``."""
    b = backend()
    run_id = run.id if isinstance(run, Run) else run
    b.metrics.flush()
    return b.registry.register(run_id, name, b.user, model_path)


def create_registered_model(name: str, description: str = "",
                            tags: Mapping[str, str] | None = None) -> RegisteredModel:
    """Create an (empty) registered model."""
    b = backend()
    return b.registry.create_model(name, b.user, description, tags)


def get_registered_model(name: str) -> RegisteredModel:
    """A registered model with its aliases and version count."""
    b = backend()
    return b.registry.get_model(name, user=b.user)


def update_registered_model(name: str, description: str | None = None,
                            tags: Mapping[str, str] | None = None) -> RegisteredModel:
    """Change a registered model's description or tags."""
    b = backend()
    return b.registry.update_model(name, b.user, description, tags)


def list_models() -> list[RegisteredModel]:
    """Every registered model."""
    b = backend()
    return b.registry.list_models(user=b.user)


def get_model_version(name: str, version: int | str = "latest") -> ModelVersion:
    """A version by number, alias (``"production"``/``"@production"``) or ``"latest"``."""
    b = backend()
    return b.registry.get_version(name, version, user=b.user)


def list_model_versions(name: str, include_archived: bool = False) -> list[ModelVersion]:
    """Versions of a model, newest first."""
    b = backend()
    return b.registry.list_versions(name, include_archived, user=b.user)


def update_model_version(name: str, version: int | str, *, description: str | None = None,
                         tags: Mapping[str, str] | None = None,
                         archived: bool | None = None) -> ModelVersion:
    """Change a version's description or tags, or (un)archive it."""
    b = backend()
    return b.registry.update_version(name, version, b.user, description=description,
                                     tags=tags, archived=archived)


def archive_model_version(name: str, version: int | str) -> ModelVersion:
    """Archive a version (it is kept, hidden from listings and aliases)."""
    return update_model_version(name, version, archived=True)


def set_alias(name: str, alias: str, version: int | str) -> ModelVersion:
    """Point an alias at a version; ``production`` requires a passing validation."""
    b = backend()
    return b.registry.set_alias(name, alias, version, b.user)


def delete_alias(name: str, alias: str) -> None:
    """Remove an alias."""
    b = backend()
    b.registry.delete_alias(name, alias, b.user)


def set_validation_rules(name: str, rules: Iterable[Mapping[str, Any] | str]
                         ) -> list[dict[str, Any]]:
    """Declare a model's validation rules, e.g. ``["accuracy >= 0.9", {"kind":
    "relative", "metric": "f1", "max_drop": 0.01}, {"kind": "latency",
    "max_ms_per_row": 2}]``."""
    b = backend()
    return b.registry.set_rules(name, list(rules), b.user)


def get_validation_rules(name: str) -> list[dict[str, Any]]:
    """The rules :func:`validate` runs for a model."""
    return backend().registry.get_rules(name)


def validate(name: str, version: int | str, data: tuple[Any, Any],
             trusted_types: Iterable[str] = ()) -> ValidationReport:
    """Run the model's rules on ``data=(X, y)``; the report is stored on the version."""
    X, y = _pair(data)
    b = backend()
    return b.registry.validate(name, version, X, y, b.user, trusted_types=trusted_types)


def load_model(uri: str, trusted_types: Iterable[str] = (),
               allow_pickle: bool = False) -> LoadedModel:
    """Load ``models:/name@alias``, ``models:/name/3`` or ``runs:/<run id>/model``.

    Every file's hash is verified and only trusted types are constructed; the result's
    ``predict`` checks its input against the signature.
    """
    reg = backend().registry
    if not isinstance(uri, str):
        raise InvalidInput(f"model URI must be a string, got {type(uri).__name__}")
    match = _MODELS_URI.match(uri)
    if match:
        ref = match.group("alias") or match.group("version")
        return reg.load_version(match.group("name"), ref, trusted_types=trusted_types,
                                allow_pickle=allow_pickle)
    match = _RUNS_URI.match(uri)
    if match:
        return reg.load_run_model(match.group("run_id"), relative_path(match.group("path")),
                                  trusted_types=trusted_types, allow_pickle=allow_pickle)
    raise InvalidInput(f"cannot read model URI {uri!r}: use models:/NAME@ALIAS, "
                       "models:/NAME/VERSION or runs:/RUN_ID/PATH")


@dataclass
class Lineage:
    """Where a model version comes from, as a graph."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "edges": self.edges}

    def to_frame(self) -> pd.DataFrame:
        """One row per edge: source, kind, target, with the nodes' kinds and labels."""
        by_id = {n["id"]: n for n in self.nodes}
        return pd.DataFrame([{
            "source": e["source"], "source_kind": by_id[e["source"]]["kind"],
            "source_label": by_id[e["source"]]["label"], "edge": e["kind"],
            "target": e["target"], "target_kind": by_id[e["target"]]["kind"],
            "target_label": by_id[e["target"]]["label"]} for e in self.edges])

    def _repr_html_(self) -> str:
        return self.to_frame()[["source_label", "edge", "target_kind", "target_label"]] \
            .to_html(index=False)


def lineage(name: str, version: int | str = "latest") -> Lineage:
    """The lineage graph of a version: run, datasets, notebook copy, commit, parent runs."""
    b = backend()
    graph = build_lineage(b.registry.get_version(name, version), b.tracking)
    return Lineage(graph["nodes"], graph["edges"])


@dataclass
class VersionComparison:
    """Champion/challenger on the same data: ``table`` and a plotly ``figure``."""

    table: pd.DataFrame
    figure: Any

    def _repr_html_(self) -> str:
        return self.table.to_html()


def compare_versions(name: str, a: int | str, b: int | str,
                     data: tuple[Any, Any]) -> VersionComparison:
    """Evaluate two versions on the same ``(X, y)``: metrics side by side and a chart."""
    import plotly.graph_objects as go

    X, y = _pair(data)
    columns: dict[str, dict[str, float]] = {}
    for ref in (a, b):
        version = get_model_version(name, ref)
        model = backend().registry.load_version(name, version.version)
        inputs = model._inputs(X)
        label = f"v{version.version}" + (f" @{','.join(version.aliases)}"
                                         if version.aliases else "")
        columns[label] = evaluate(model.model, inputs, y)
    table = pd.DataFrame(columns)
    first, second = table.columns
    table["difference"] = table[second] - table[first]
    figure = go.Figure([go.Bar(name=str(col), x=list(table.index), y=table[col].tolist(),
                               text=[f"{v:.3f}" for v in table[col]], textposition="outside")
                        for col in (first, second)])
    figure.update_layout(barmode="group", template="plotly_white", height=380,
                         title=f"{name}: {first} vs {second} on {len(y)} rows",
                         yaxis_title="score", legend_title_text="version",
                         margin={"l": 50, "r": 20, "t": 60, "b": 40})
    return VersionComparison(table, figure)


def _pair(data: Sequence[Any] | Any) -> tuple[Any, Any]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise InvalidInput("data must be a pair (X, y)")
    return data[0], data[1]
