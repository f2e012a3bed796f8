"""Records of the serving domain."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Deployment:
    """A deployment's identity and current desired state (observed state: the controller)."""

    name: str
    model: str
    environment: str
    status: str
    port: int
    revision: int
    desired: dict[str, Any]
    created_at: int
    created_by: str
    updated_at: int
    observed: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Any, desired: dict[str, Any] | None) -> Deployment:
        return cls(row.name, row.model, row.environment, row.status, row.port, row.revision,
                   desired or {}, row.created_at, row.created_by, row.updated_at)

    @property
    def url(self) -> str:
        """The worker endpoint (replicas share the port)."""
        return f"http://127.0.0.1:{self.port}/v1/predict"

    @property
    def main_version(self) -> int:
        """The version taking most of the live traffic."""
        traffic = self.desired.get("traffic") or []
        if not traffic:
            from ..errors import RuleViolation

            raise RuleViolation(f"deployment {self.name} has no traffic")
        return int(max(traffic, key=lambda t: t["weight"])["version"])

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["url"] = self.url
        return out


@dataclass
class DeploymentEvent:
    """Something that happened to a deployment."""

    time: int
    kind: str
    message: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RequestBucket:
    """Requests to a deployment in one time bucket (shadow copies left out).

    ``rate`` is requests per second over the bucket; ``errors`` counts requests not
    answered 200 (refused inputs, model errors); the latency percentiles (ms) are of
    the answered ones (``None``: none in the bucket).
    """

    start: int
    requests: int
    errors: int
    rate: float
    p50_ms: float | None
    p95_ms: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RequestStats:
    """Request rate, errors and latency of a deployment over a window, per bucket.

    The window ends at ``end`` (ms since the epoch; "now" unless asked otherwise) and
    is ``len(buckets)`` buckets of ``bucket_ms`` each, the last one ending at ``end``.
    Totals: ``rate`` is requests per second over the whole window, ``recent_rate``
    over its last minute. Percentiles are over the latencies of answered requests
    read (the newest :data:`~.service.STATS_LATENCY_ROWS` at most: ``sampled`` says
    the cap was reached and ``latency_rows`` how many were read).
    """

    deployment: str
    window_seconds: int
    bucket_ms: int
    start: int
    end: int
    requests: int
    errors: int
    error_rate: float | None
    rate: float
    recent_rate: float
    p50_ms: float | None
    p95_ms: float | None
    latency_rows: int
    sampled: bool
    buckets: list[RequestBucket] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> RequestStats:
        """The inverse of :meth:`to_dict` (team mode rebuilds it from REST JSON)."""
        names = {f.name for f in fields(cls)} - {"buckets"}
        bucket_names = {f.name for f in fields(RequestBucket)}
        buckets = [RequestBucket(**{k: v for k, v in b.items() if k in bucket_names})
                   for b in body.get("buckets") or []]
        return cls(**{k: v for k, v in body.items() if k in names}, buckets=buckets)

    def to_frame(self) -> Any:
        """The buckets as a pandas DataFrame (``start`` as UTC datetimes)."""
        import pandas as pd

        columns = [f.name for f in fields(RequestBucket)]
        frame = pd.DataFrame([b.to_dict() for b in self.buckets], columns=columns)
        frame["start"] = pd.to_datetime(frame["start"], unit="ms", utc=True)
        return frame
