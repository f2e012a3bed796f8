"""Python API of governance: who you are and what you may do, roles, permissions,
four-eyes promotions to ``@production``, the audit trail and model cards.

Every call acts as the backend's user (``MLOPS_JLAB_USER`` or the OS user locally,
the token's user in team mode) and is checked and recorded by the services.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigurationError, InvalidInput
from ..governance import AuditFilter, AuditLog, Permissions, User, Verification
from ..governance.anchors import AnchorResult
from ..governance.approvals import Promotion
from ..governance.card import ModelCard
from ..governance.policy import Policy
from .api import backend


def whoami() -> dict[str, Any]:
    """``{"user", "role", "can": {action: bool}}`` of the acting user."""
    b = backend()
    return b.access.whoami(b.user)  # type: ignore[attr-defined,no-any-return]


def users() -> pd.DataFrame:
    """Known users with their roles."""
    rows = [u.to_dict() for u in backend().access.users()]  # type: ignore[attr-defined]
    return pd.DataFrame(rows, columns=["name", "role", "created_at", "granted_by",
                                       "granted_at"])


def grant(user: str, role: str) -> User:
    """Give ``user`` a role: viewer, contributor, approver or admin (admins only)."""
    b = backend()
    return b.access.grant(b.user, user, role)  # type: ignore[attr-defined,no-any-return]


def issue_token(user: str) -> str:
    """A new API token for ``user`` (admins, or yourself), shown once: team mode's
    ``MLOPS_JLAB_TOKEN``."""
    b = backend()
    return b.access.issue_token(b.user, user)  # type: ignore[attr-defined,no-any-return]


def _resource(kind: str, name: str) -> tuple[str, str]:
    if kind == "experiment":
        return kind, backend().get_experiment(name).id
    if kind == "model":
        return kind, name
    raise InvalidInput(f"kind must be 'experiment' or 'model', not {kind!r}", field="kind")


def permissions(kind: str, name: str) -> Permissions:
    """Owner, readers and writers of an experiment or a registered model."""
    return backend().access.permissions(*_resource(kind, name))  # type: ignore[attr-defined,no-any-return]


def set_permissions(kind: str, name: str, *, readers: Iterable[str] | None = None,
                    writers: Iterable[str] | None = None,
                    owner: str | None = None) -> Permissions:
    """Restrict who may change (``writers``) or see (``readers``) an experiment or a
    model; empty lists open it to every role holder. The owner or an admin."""
    b = backend()
    return b.access.set_permissions(  # type: ignore[attr-defined,no-any-return]
        b.user, *_resource(kind, name), readers=readers, writers=writers, owner=owner)


# ---------------------------------------------------------------- promotions
def _request_id(request: Promotion | str) -> str:
    return request.id if isinstance(request, Promotion) else str(request)


def request_promotion(name: str, version: int | str, comment: str = "") -> Promotion:
    """Ask for ``name`` v``version`` to become ``@production``; an approver other than
    you decides. The version needs a passing validation."""
    b = backend()
    return b.promotions.request(name, version, b.user, comment)  # type: ignore[attr-defined,no-any-return]


def approve(request: Promotion | str, comment: str) -> Promotion:
    """Approve a promotion request with a comment; the last needed approval moves
    ``@production`` (and production deployments follow)."""
    b = backend()
    return b.promotions.approve(_request_id(request), b.user, comment)  # type: ignore[attr-defined,no-any-return]


def reject(request: Promotion | str, comment: str) -> Promotion:
    """Reject a promotion request with a comment."""
    b = backend()
    return b.promotions.reject(_request_id(request), b.user, comment)  # type: ignore[attr-defined,no-any-return]


def cancel_promotion(request: Promotion | str) -> Promotion:
    """Withdraw your pending promotion request."""
    b = backend()
    return b.promotions.cancel(_request_id(request), b.user)  # type: ignore[attr-defined,no-any-return]


def promotions(model: str | None = None, status: str | None = None,
               limit: int = 100) -> list[Promotion]:
    """Promotion requests, newest first (``status="pending"`` for the approver's queue)."""
    return backend().promotions.list(model, status, limit)  # type: ignore[attr-defined,no-any-return]


def get_promotion(request_id: str) -> Promotion:
    """One request with its validation report and metrics against ``@production``."""
    return backend().promotions.get(request_id)  # type: ignore[attr-defined,no-any-return]


def policy(name: str) -> Policy:
    """The promotion policy of a model."""
    return backend().promotions.policy(name)  # type: ignore[attr-defined,no-any-return]


def set_policy(name: str, *, required_approvals: int | None = None,
               allow_self_approval: bool | None = None) -> Policy:
    """Set how many approvals ``@production`` takes (0: approvers move it directly) and
    whether requesters may approve themselves (single-user setups; recorded)."""
    b = backend()
    return b.promotions.set_policy(  # type: ignore[attr-defined,no-any-return]
        name, b.user, required_approvals=required_approvals,
        allow_self_approval=allow_self_approval)


# ---------------------------------------------------------------- audit
def audit(*, actor: str | None = None, action: str | None = None,
          target_type: str | None = None, target: str | None = None,
          since: int | None = None, until: int | None = None,
          limit: int = 1000) -> pd.DataFrame:
    """Audit events, newest first (``action`` and ``target`` match prefixes)."""
    flt = AuditFilter(actor, action, target_type, target, since, until)
    events, _next = backend().access.audit.events(flt, limit=limit)  # type: ignore[attr-defined]
    frame = pd.DataFrame([e.to_dict() for e in events],
                         columns=["seq", "time", "actor", "action", "target_type", "target",
                                  "before", "after", "prev_hash", "hash"])
    frame["time"] = pd.to_datetime(frame["time"], unit="ms", utc=True)
    return frame


def verify_audit(anchors: str | None = None) -> Verification:
    """Recompute the MAC chain with the audit key, and check the anchors at ``anchors``
    (a folder or fsspec URL; default ``$MLOPS_JLAB_HOME/audit-anchors`` when it exists);
    ``.ok`` is False and ``.problems`` names each edited, deleted, reordered, truncated,
    rewritten or downgraded event and each forged or missing anchor.

    In team mode the server verifies (with its own key and anchors); ``anchors`` then
    raises :class:`ConfigurationError`."""
    audit = backend().access.audit  # type: ignore[attr-defined]
    if isinstance(audit, AuditLog):
        return audit.verify(anchors)
    if anchors is not None:
        raise ConfigurationError("checking anchors takes the audit key: run the "
                                 "verification where the store is (local mode), or let "
                                 "the server check its configured anchors")
    return audit.verify()  # type: ignore[no-any-return]


def _local_audit(what: str) -> AuditLog:
    audit = backend().access.audit  # type: ignore[attr-defined]
    if not isinstance(audit, AuditLog):
        raise ConfigurationError(f"{what} takes the store and its audit key file: run it "
                                 "on the server's host (local mode), not over "
                                 "MLOPS_JLAB_URI")
    return audit


def anchor_audit(location: str | None = None, *, webhook: str | None = None
                 ) -> AnchorResult | None:
    """Write a signed anchor of the audit chain's head to ``location`` (a folder or
    fsspec URL; default ``$MLOPS_JLAB_HOME/audit-anchors``), and POST it to ``webhook``
    if given; None when the chain is empty. Local mode only."""
    b = backend()
    return _local_audit("anchoring the audit chain").anchor(b.user, location,
                                                            webhook=webhook)


def rotate_audit_key() -> dict[str, Any]:
    """Switch the audit chain to a fresh key (admins; local mode only): records
    ``audit.key_rotate`` MACed with the old key, and keeps the old keys in the key file
    so older events still verify. ``{"seq", "previous_key_id", "key_id", "key_file"}``."""
    _local_audit("rotating the audit key")
    b = backend()
    return b.access.rotate_audit_key(b.user)  # type: ignore[attr-defined,no-any-return]


def export_audit(path: str, *, format: str | None = None, **filters: Any) -> str:
    """Write the audit trail (filtered like :func:`audit`) to CSV or JSON."""
    fmt = format or ("json" if str(path).endswith(".json") else "csv")
    data = backend().access.audit.export(fmt, AuditFilter(**filters))  # type: ignore[attr-defined]
    Path(path).write_bytes(data)
    return str(path)


# ---------------------------------------------------------------- model cards
def model_card(name: str, version: int | str = "latest") -> ModelCard:
    """The model card of a version: intended use, data, metrics and validation,
    lineage, approvals and deployments (``.to_markdown()``, ``.to_html()``, ``.save``)."""
    return backend().cards.card(name, version)  # type: ignore[attr-defined,no-any-return]


def set_intended_use(name: str, version: int | str, text: str) -> str:
    """Write what a model version is for (shown on its model card)."""
    b = backend()
    return b.cards.set_intended_use(name, version, b.user, text)  # type: ignore[attr-defined,no-any-return]
