"""Records the registry returns (JSON-ready through ``to_dict``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RegisteredModel:
    """A named model with numbered versions and aliases."""

    name: str
    description: str
    tags: dict[str, str]
    created_at: int
    created_by: str
    version_count: int = 0
    latest_version: int | None = None
    aliases: dict[str, int] = field(default_factory=dict)
    last_updated: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ModelVersion:
    """One registered version of a model."""

    name: str
    version: int
    status: str
    run_id: str
    model_path: str
    description: str
    tags: dict[str, str]
    aliases: list[str]
    archived: bool
    flavor: str | None
    serializer: str | None
    unsafe_serializer: bool
    model_class: str | None
    signature: dict[str, Any] | None
    metrics: dict[str, Any]
    files: dict[str, str] | None
    created_at: int
    created_by: str
    ready_at: int | None
    error: str | None
    validation: dict[str, Any] | None
    id: str = ""

    @classmethod
    def from_row(cls, row: Any, aliases: list[str],
                 validation: dict[str, Any] | None) -> ModelVersion:
        manifest = row.manifest or {}
        return cls(row.model, row.version, row.status, row.run_id, row.model_path,
                   row.description or "", row.tags or {}, aliases, bool(row.archived),
                   manifest.get("flavor"), manifest.get("serializer"),
                   bool(row.unsafe_serializer), manifest.get("model_class"),
                   manifest.get("signature"), row.metrics or {}, row.files, row.created_at,
                   row.created_by, row.ready_at, row.error, validation, row.id)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("id")
        return out


@dataclass
class ValidationReport:
    """The outcome of running a model's validation rules on some data."""

    id: str
    name: str
    version: int
    passed: bool
    created_at: int
    created_by: str
    data: dict[str, Any]
    results: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_frame(self) -> Any:
        """Results as a DataFrame: rule, kind, value, threshold, passed, message."""
        import pandas as pd

        return pd.DataFrame(self.results,
                            columns=["rule", "kind", "value", "threshold", "passed", "message"])

    def _repr_html_(self) -> str:
        verdict = "passed" if self.passed else "failed"
        color = "#2e7d32" if self.passed else "#c62828"
        return (f"<div><b>{self.name} v{self.version}</b> validation "
                f"<span style='color:{color};font-weight:600'>{verdict}</span></div>"
                + self.to_frame().to_html(index=False))
