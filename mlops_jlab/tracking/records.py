"""Plain records the tracking service returns (JSON-ready through ``to_dict``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RUN_STATUSES = ("running", "finished", "failed", "killed")
TERMINAL_STATUSES = ("finished", "failed", "killed")


@dataclass
class Experiment:
    """An experiment groups runs."""

    id: str
    name: str
    created_at: int
    created_by: str
    tags: dict[str, str] = field(default_factory=dict)
    run_count: int = 0
    last_run_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Run:
    """A run as listed: attributes plus params, latest metrics and tags."""

    id: str
    name: str
    experiment_id: str
    experiment_name: str
    status: str
    user: str
    start_time: int
    end_time: int | None
    parent_run_id: str | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (``None`` while running)."""
        if self.end_time is None:
            return None
        return (self.end_time - self.start_time) / 1000.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["duration"] = self.duration
        return out


@dataclass
class RunDetail(Run):
    """A run with everything recorded about it."""

    environment: dict[str, Any] = field(default_factory=dict)
    metric_keys: list[str] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass
class MetricPoint:
    """One logged value of a metric."""

    step: int
    value: float | None
    timestamp: int


@dataclass
class RunPage:
    """A page of runs and the cursor of the next page (``None`` on the last page)."""

    runs: list[Run]
    next_page_token: str | None
    total: int | None = None
    """How many runs match in all (only when the search asked to count)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"runs": [r.to_dict() for r in self.runs],
                               "next_page_token": self.next_page_token}
        if self.total is not None:
            out["total"] = self.total
        return out
