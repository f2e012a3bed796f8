"""Roles and the actions they allow.

Roles are ordered: each one can do everything the one before it can.

- **viewer** reads.
- **contributor** tracks runs, registers models, sets aliases other than
  ``@production``, deploys to staging, watches deployments, schedules notebooks and
  pipelines, and requests promotions.
- **approver** approves or rejects promotions and changes production deployments.
- **admin** grants roles and sets policies and permissions on any resource.

Actors whose name starts with ``mlops:`` are the platform's own processes (the monitor
loop, retraining, the deployment controller); they are never a Jupyter identity.
"""

from __future__ import annotations

from ..errors import InvalidInput

ROLES: tuple[str, ...] = ("viewer", "contributor", "approver", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}

ACTIONS: dict[str, str] = {
    "read": "viewer",
    "track": "contributor",
    "register": "contributor",
    "deploy_staging": "contributor",
    "monitor": "contributor",
    "request_promotion": "contributor",
    "schedule": "contributor",
    "approve": "approver",
    "deploy_production": "approver",
    "admin": "admin",
}
"""The least role each action takes."""

SYSTEM_PREFIX = "mlops:"
MONITOR = "mlops:monitor"
SCHEDULER = "mlops:scheduler"
CONTROLLER = "mlops:controller"


def role_name(role: str) -> str:
    """A valid role name, or :class:`InvalidInput` listing the valid ones."""
    value = str(role).strip().lower()
    if value not in RANK:
        raise InvalidInput(f"unknown role {role!r}; roles are {', '.join(ROLES)}",
                           field="role")
    return value


def allows(role: str, action: str) -> bool:
    """Whether ``role`` may take ``action``."""
    return RANK[role] >= RANK[ACTIONS[action]]


def capabilities(role: str) -> dict[str, bool]:
    """Every action with whether ``role`` may take it (what the UI shows or hides)."""
    return {action: allows(role, action) for action in ACTIONS}


def is_system(user: str) -> bool:
    """Whether ``user`` is one of the platform's own processes."""
    return user.startswith(SYSTEM_PREFIX)


def user_name(user: str) -> str:
    """A user name as stored: non-empty, at most 256 characters, not a system actor."""
    value = str(user).strip()
    if not value or len(value) > 256:
        raise InvalidInput("a user name must have 1 to 256 characters", field="user")
    if is_system(value):
        raise InvalidInput(f"user names starting with {SYSTEM_PREFIX!r} are reserved",
                           field="user")
    return value
