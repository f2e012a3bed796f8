"""Promotion policy of a registered model: how many approvals ``@production`` takes and
whether a requester may approve their own request."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, select

from ..errors import InvalidInput
from ..store import schema as s

DEFAULT_REQUIRED_APPROVALS = 1
MAX_REQUIRED_APPROVALS = 10


@dataclass(frozen=True)
class Policy:
    """``required_approvals`` (0 = an approver may move ``@production`` directly) and
    ``allow_self_approval`` (for single-user setups; recorded on each request)."""

    required_approvals: int = DEFAULT_REQUIRED_APPROVALS
    allow_self_approval: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_policy(conn: Connection, model: str) -> Policy:
    """The stored policy of ``model``, or the default one."""
    row = conn.execute(select(s.model_policies).where(
        s.model_policies.c.model == model)).first()
    if row is None:
        return Policy()
    return Policy(int(row.required_approvals), bool(row.allow_self_approval))


def check_policy(current: Policy, required_approvals: object = None,
                 allow_self_approval: object = None) -> Policy:
    """``current`` with the given fields changed, validated."""
    required = current.required_approvals
    if required_approvals is not None:
        if isinstance(required_approvals, bool) or not isinstance(required_approvals, int) \
                or not 0 <= required_approvals <= MAX_REQUIRED_APPROVALS:
            raise InvalidInput(f"required_approvals must be an integer from 0 to "
                               f"{MAX_REQUIRED_APPROVALS}", field="required_approvals")
        required = required_approvals
    allow = current.allow_self_approval
    if allow_self_approval is not None:
        if not isinstance(allow_self_approval, bool):
            raise InvalidInput("allow_self_approval must be true or false",
                               field="allow_self_approval")
        allow = allow_self_approval
    return Policy(required, allow)
