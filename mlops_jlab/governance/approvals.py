"""Four-eyes promotions to ``@production``.

A contributor requests a promotion of a validated version; approvers other than the
requester (unless the model's policy allows self-approval, which each request records)
approve or reject it with a comment. When approvals reach the policy's count, the alias
moves in the same transaction as the last approval, and production deployments of the
model switch from the old ``@production`` version to the new one.
"""

from __future__ import annotations

import builtins
import html
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from ..registry.names import model_name
from ..store import schema as s
from .access import AccessControl
from .policy import Policy, check_policy, read_policy
from .roles import same_user

log = logging.getLogger(__name__)

STATUSES = ("pending", "approved", "rejected", "cancelled")
MAX_COMMENT = 10_000


def _now() -> int:
    from ..tracking.service import now_ms

    return now_ms()


def _new_id() -> str:
    from ..tracking.service import new_id

    return new_id()


@dataclass
class Decision:
    """One approver's approve or reject."""

    user: str
    decision: str
    comment: str
    at: int


@dataclass
class Promotion:
    """A request to move ``@production`` (``alias``) to ``model`` v``version``."""

    id: str
    model: str
    version: int
    alias: str
    requester: str
    comment: str
    status: str
    created_at: int
    decided_at: int | None
    required_approvals: int
    self_approval: bool
    decisions: list[Decision] = field(default_factory=list)
    validation: dict[str, Any] | None = None
    production_version: int | None = None
    metrics_diff: list[dict[str, Any]] = field(default_factory=list)

    @property
    def approvals(self) -> int:
        """Approvals so far."""
        return sum(d.decision == "approve" for d in self.decisions)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (REST)."""
        out = asdict(self)
        out["approvals"] = self.approvals
        return out

    def _repr_html_(self) -> str:
        e = html.escape
        rows = "".join(f"<li>{e(d.user)}: <b>{e(d.decision)}</b> — {e(d.comment)}</li>"
                       for d in self.decisions)
        diff = "".join(
            f"<tr><td>{e(str(m['metric']))}</td><td>{_num(m['candidate'])}</td>"
            f"<td>{_num(m['production'])}</td><td>{_num(m['delta'])}</td></tr>"
            for m in self.metrics_diff)
        table = (f"<table><tr><th>metric</th><th>v{self.version}</th><th>@production"
                 f"{'' if self.production_version is None else f' (v{self.production_version})'}"
                 f"</th><th>Δ</th></tr>{diff}</table>" if diff else "")
        return (f"<div><b>Promotion {e(self.id[:8])}</b>: {e(self.model)} v{self.version} → "
                f"@{e(self.alias)} · <b>{e(self.status)}</b> ({self.approvals}/"
                f"{self.required_approvals} approvals) · requested by {e(self.requester)}: "
                f"{e(self.comment)}<ul>{rows}</ul>{table}</div>")


def _num(value: Any) -> str:
    return "—" if value is None else f"{value:.4g}" if isinstance(value, float) else \
        html.escape(str(value))


def _comment(comment: object, required: bool) -> str:
    text = "" if comment is None else str(comment).strip()
    if required and not text:
        raise InvalidInput("a comment is required: say why", field="comment")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"comment is longer than {MAX_COMMENT} characters",
                           field="comment")
    return text


class PromotionService:
    """Promotion requests, decisions and model policies."""

    def __init__(self, registry: Any, access: AccessControl | None = None,
                 on_promoted: Callable[[str, int | None, int, str], object] | None = None
                 ) -> None:
        self.registry = registry
        self.db = registry.db
        self.access = access or registry.access
        self.audit = self.access.audit
        self.on_promoted = on_promoted
        """Called after commit with (model, old version, new version, approver): the
        server points production deployments at the new version."""

    # ---------------------------------------------------------------- policy
    def policy(self, model: str) -> Policy:
        """The model's policy (default: one approval, no self-approval)."""
        name = model_name(model)
        with self.db.read() as conn:
            self.registry._model_row(conn, name)
            return read_policy(conn, name)

    def set_policy(self, model: str, user: str, *, required_approvals: int | None = None,
                   allow_self_approval: bool | None = None) -> Policy:
        """Change the policy: the model's owner or an admin."""
        name = model_name(model)
        with self.db.write() as conn:
            self.registry._model_row(conn, name)
            role = self.access.require(conn, user, "register")
            owner = self.access._permissions(conn, "model", name).owner
            if role != "admin" and not same_user(user, owner):
                raise PermissionDenied(f"only the owner of {name!r} ({owner}) or an admin "
                                       "can change its promotion policy", needed="admin")
            before = read_policy(conn, name)
            after = check_policy(before, required_approvals, allow_self_approval)
            values = {"required_approvals": after.required_approvals,
                      "allow_self_approval": int(after.allow_self_approval),
                      "updated_at": _now(), "updated_by": user}
            if conn.execute(select(s.model_policies.c.model).where(
                    s.model_policies.c.model == name)).first() is None:
                conn.execute(insert(s.model_policies).values(model=name, **values))
            else:
                conn.execute(update(s.model_policies).where(
                    s.model_policies.c.model == name).values(**values))
            self.audit.append(conn, user, "policy.set", "model", name, before.to_dict(),
                              after.to_dict())
        return after

    # ---------------------------------------------------------------- requests
    def request(self, model: str, version: int | str, user: str, comment: str = ""
                ) -> Promotion:
        """Ask for ``model`` v``version`` to become ``@production``. The version must be
        ready and carry a passing latest validation."""
        text = _comment(comment, required=False)
        with self.db.write() as conn:
            row = self.registry._version_row(conn, model, version)
            self.access.require(conn, user, "request_promotion", ("model", row.model))
            if row.status != "ready" or row.archived:
                raise RuleViolation(f"{row.model} v{row.version} is "
                                    f"{'archived' if row.archived else row.status}")
            self.registry._require_passing_validation(conn, row)
            current = conn.execute(select(s.model_aliases.c.version).where(
                s.model_aliases.c.model == row.model,
                s.model_aliases.c.alias == "production")).scalar()
            if current == row.version:
                raise RuleViolation(f"{row.model} v{row.version} already is @production")
            pr = s.promotion_requests.c
            pending = conn.execute(select(pr.id).where(
                pr.model == row.model, pr.version == row.version,
                pr.status == "pending")).scalar()
            if pending is not None:
                raise Conflict(f"{row.model} v{row.version} already has a pending promotion "
                               f"request ({pending})", request=pending)
            policy = read_policy(conn, row.model)
            request_id, now = _new_id(), _now()
            values = {"id": request_id, "model": row.model, "version": row.version,
                      "alias": "production", "requester": user, "comment": text,
                      "status": "pending",
                      "required_approvals": max(1, policy.required_approvals),
                      "allow_self_approval": int(policy.allow_self_approval),
                      "created_at": now, "decided_at": None}
            conn.execute(insert(s.promotion_requests).values(**values))
            self.audit.append(conn, user, "promotion.request", "model",
                              f"{row.model}/{row.version}", None,
                              {"request": request_id, "comment": text,
                               "from_version": current, "policy": policy.to_dict()},
                              time=now)
        return self.get(request_id)

    def approve(self, request_id: str, user: str, comment: str) -> Promotion:
        """Approve with a comment (an approver; not the requester unless the policy
        recorded on the request allows it). The last needed approval moves the alias."""
        return self._decide(request_id, user, "approve", _comment(comment, required=True))

    def reject(self, request_id: str, user: str, comment: str) -> Promotion:
        """Reject with a comment (an approver): the request is closed."""
        return self._decide(request_id, user, "reject", _comment(comment, required=True))

    def cancel(self, request_id: str, user: str) -> Promotion:
        """Withdraw a pending request (its requester or an admin)."""
        with self.db.write() as conn:
            req = self._row(conn, request_id)
            role = self.access.require(conn, user, "read")
            if not same_user(user, req.requester) and role != "admin":
                raise PermissionDenied(f"only {req.requester} (who asked) or an admin can "
                                       "cancel this request", needed="admin")
            self._require_pending(req)
            self._close(conn, req, "cancelled", user, None)
        return self.get(request_id)

    def _decide(self, request_id: str, user: str, decision: str, text: str) -> Promotion:
        promoted: tuple[str, int | None, int] | None = None
        with self.db.write() as conn:
            req = self._row(conn, request_id)
            self.access.require(conn, user, "approve", ("model", req.model))
            self._require_pending(req)
            if same_user(user, req.requester) and not req.allow_self_approval:
                raise PermissionDenied(
                    f"{user} requested this promotion and cannot {decision} it: another "
                    f"approver must (the policy of {req.model} does not allow self-approval)"
                    if decision == "approve" else
                    f"{user} requested this promotion: cancel it instead of rejecting it")
            pd = s.promotion_decisions.c
            if conn.execute(select(pd.id).where(pd.request_id == req.id,
                                                pd.user == user)).first() is not None:
                raise Conflict(f"{user} already decided on this request")
            now = _now()
            conn.execute(insert(s.promotion_decisions).values(
                request_id=req.id, user=user, decision=decision, comment=text, at=now))
            self.audit.append(conn, user, f"promotion.{decision}", "model",
                              f"{req.model}/{req.version}", None,
                              {"request": req.id, "comment": text,
                               "self_approval": same_user(user, req.requester)}, time=now)
            if decision == "reject":
                self._close(conn, req, "rejected", user, now)
            else:
                approvals = conn.execute(select(pd.id).where(
                    pd.request_id == req.id, pd.decision == "approve")).all()
                if len(approvals) >= req.required_approvals:
                    row = self.registry._version_row(conn, req.model, req.version)
                    old = self.registry.move_alias(conn, row, req.alias, user,
                                                   promotion=req.id)
                    self._close(conn, req, "approved", user, now)
                    promoted = (req.model, old, req.version)
        if promoted is not None and self.on_promoted is not None:
            try:
                self.on_promoted(*promoted, user)
            except Exception:  # the promotion stands; the deployment says what failed
                log.warning("production deployments of %s did not follow @production to "
                            "v%s", promoted[0], promoted[2], exc_info=True)
        return self.get(request_id)

    @staticmethod
    def _require_pending(req: Any) -> None:
        if req.status != "pending":
            raise RuleViolation(f"this promotion request is already {req.status}")

    def _close(self, conn: Connection, req: Any, status: str, user: str,
               now: int | None) -> None:
        conn.execute(update(s.promotion_requests).where(s.promotion_requests.c.id == req.id)
                     .values(status=status, decided_at=now or _now()))
        if status == "cancelled":
            self.audit.append(conn, user, "promotion.cancel", "model",
                              f"{req.model}/{req.version}", {"status": "pending"},
                              {"request": req.id, "status": status})

    # ---------------------------------------------------------------- reading
    def _row(self, conn: Connection, request_id: str) -> Any:
        if not isinstance(request_id, str) or not request_id:
            raise InvalidInput("a promotion request id is needed")
        row = conn.execute(select(s.promotion_requests).where(
            s.promotion_requests.c.id == request_id)).first()
        if row is None:
            raise NotFound(f"promotion request {request_id!r} does not exist")
        return row

    def list(self, model: str | None = None, status: str | None = None,
             limit: int = 100, *, user: str | None = None) -> list[Promotion]:
        """Requests newest first (pending ones are what approvers look at); ``user``:
        only those of models they may read."""
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}",
                               field="status")
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000", field="limit")
        pr = s.promotion_requests.c
        query = select(s.promotion_requests)
        if model:
            query = query.where(pr.model == model_name(model))
        if status:
            query = query.where(pr.status == status)
        with self.db.read() as conn:
            hidden = self.registry.access.hidden(conn, user, "model")
            if hidden:
                query = query.where(pr.model.not_in(hidden))
            rows = conn.execute(query.order_by(pr.created_at.desc()).limit(limit)).all()
            decisions = self._decisions(conn, [r.id for r in rows])
        return [self._promotion(r, decisions.get(r.id, [])) for r in rows]

    def get(self, request_id: str) -> Promotion:
        """One request with the version's latest validation report and its metrics
        against the current ``@production`` version."""
        with self.db.read() as conn:
            row = self._row(conn, request_id)
            promotion = self._promotion(row, self._decisions(conn, [row.id]).get(row.id, []))
        reports = self.registry.list_validations(row.model, row.version)
        if reports:
            latest = reports[0]
            promotion.validation = {"passed": latest.passed, "created_at": latest.created_at,
                                    "created_by": latest.created_by,
                                    "results": latest.results}
        candidate = self.registry.get_version(row.model, row.version)
        try:
            production = self.registry.get_version(row.model, "production")
        except NotFound:
            production = None
        if production is not None:
            promotion.production_version = production.version
        other = production.metrics if production is not None and \
            production.version != candidate.version else {}
        keys = sorted(set(candidate.metrics) | set(other))
        promotion.metrics_diff = [
            {"metric": k, "candidate": candidate.metrics.get(k), "production": other.get(k),
             "delta": (candidate.metrics[k] - other[k])
             if isinstance(candidate.metrics.get(k), (int, float))
             and isinstance(other.get(k), (int, float)) else None}
            for k in keys]
        return promotion

    @staticmethod
    def _decisions(conn: Connection, ids: builtins.list[str]
                   ) -> dict[str, builtins.list[Decision]]:
        if not ids:
            return {}
        pd = s.promotion_decisions.c
        out: dict[str, builtins.list[Decision]] = {}
        for d in conn.execute(select(s.promotion_decisions).where(pd.request_id.in_(ids))
                              .order_by(pd.at, pd.id)).all():
            out.setdefault(d.request_id, []).append(Decision(d.user, d.decision, d.comment,
                                                             d.at))
        return out

    @staticmethod
    def _promotion(row: Any, decisions: builtins.list[Decision]) -> Promotion:
        return Promotion(row.id, row.model, row.version, row.alias, row.requester,
                         row.comment, row.status, row.created_at, row.decided_at,
                         row.required_approvals, bool(row.allow_self_approval), decisions)
