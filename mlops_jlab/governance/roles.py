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

User names are case-insensitive: every name that enters (a Jupyter or JupyterHub identity,
``MLOPS_JLAB_USER``, a grant, a token, readers and writers) goes through
:func:`user_name`, which NFKC-normalises and case-folds it and refuses surrounding
whitespace, control characters, newlines and bidi or other invisible format characters
(rather than trimming them: ``"alice "`` is refused, not taken for ``alice``). Names
stored before this rule keep their spelling in the store and are matched by their
case-fold (:func:`same_user`), so no migration is needed.
"""

from __future__ import annotations

import unicodedata

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


#: bidirectional formatting characters (Unicode's Bidi_Control): they reorder how text
#: is shown, so a name or an experiment could read as another one
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")


def unsafe_character(text: str, *, invisible: bool = False) -> str | None:
    """A description of the first character of ``text`` that names must not hold (a
    control character, a newline, a bidi control; with ``invisible`` also any other
    format character such as a zero-width space), or None."""
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if ch in BIDI_CONTROLS:
            kind = "a bidi control character"
        elif ch in "\r\n\x85" or category in ("Zl", "Zp"):
            kind = "a line break"
        elif category == "Cc":
            kind = "a control character"
        elif invisible and category == "Cf":
            kind = "an invisible format character"
        else:
            continue
        return f"{kind} (U+{ord(ch):04X}) at position {i}"
    return None


def user_name(user: str) -> str:
    """A user name as stored and compared: NFKC-normalised and case-folded, 1 to 256
    characters, not a system actor. Surrounding whitespace, control characters, line
    breaks and bidi or invisible format characters are refused (:class:`InvalidInput`
    naming the problem), never trimmed away."""
    raw = str(user)
    if raw != raw.strip():
        raise InvalidInput(f"user name {raw!r} has surrounding whitespace", field="user")
    problem = unsafe_character(raw, invisible=True)
    if problem:
        raise InvalidInput(f"user name {raw!r} holds {problem}", field="user")
    value = unicodedata.normalize("NFKC", raw).casefold()
    if not value or len(value) > 256:
        raise InvalidInput("a user name must have 1 to 256 characters", field="user")
    if value != value.strip() or unsafe_character(value, invisible=True):
        raise InvalidInput(f"user name {raw!r} is not a valid name once normalised",
                           field="user")
    if is_system(value):
        raise InvalidInput(f"user names starting with {SYSTEM_PREFIX!r} are reserved",
                           field="user")
    return value


def fold(user: str) -> str:
    """How a stored or given name compares (NFKC, case-folded; no validation): names
    stored before names were normalised compare equal to their normalised form."""
    return unicodedata.normalize("NFKC", str(user)).casefold()


def same_user(a: str | None, b: str | None) -> bool:
    """Whether two user names (either possibly stored before normalisation) are one
    user."""
    return a is not None and b is not None and fold(a) == fold(b)
