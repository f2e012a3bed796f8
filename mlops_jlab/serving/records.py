"""Records of the serving domain."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
