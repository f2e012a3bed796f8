"""``/mlops/api``: identity (``/me``, ``/users``), promotions and their approval,
model policies and permissions, the audit trail and model cards."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput, PermissionDenied
from ..governance import AuditFilter
from ..governance.roles import user_name
from .base import MlopsHandler
from .idempotency import ReplayableWrites, idempotent
from .identity import DELEGATED_ATTR


class GovernanceHandler(ReplayableWrites, MlopsHandler):
    """Base of the governance handlers (writes honour ``Idempotency-Key``)."""

    auth_resource = "mlops:governance"

    @property
    def access(self) -> Any:
        return self.mlops.access

    @property
    def promotions(self) -> Any:
        return self.mlops.promotions

    def text_field(self, body: dict[str, Any], key: str, required: bool = False) -> str:
        value = body.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise InvalidInput(f"{key} must be a string", field=key)
        return value


class MeHandler(GovernanceHandler):
    """``GET /me``: the acting user, their role and what it allows."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.call(self.access.whoami, self.username))


class UsersHandler(GovernanceHandler):
    """``GET /users``: every known user and role."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        users = await self.call(self.access.users)
        self.reply({"users": [u.to_dict() for u in users]})


class UserHandler(GovernanceHandler):
    """``PUT /users/{name} {"role"}``: grant a role (admins)."""

    @web.authenticated
    @authorized
    @idempotent
    async def put(self, name: str) -> None:
        body = self.json_body()
        user = await self.call(self.access.grant, self.username, name,
                               self.text_field(body, "role", required=True))
        self.reply(user.to_dict())


class UserTokenHandler(GovernanceHandler):
    """``POST /users/{name}/token``: a new API token for that user (admins, or the user
    for themself), shown once."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        if getattr(self.current_user, DELEGATED_ATTR, False):
            raise PermissionDenied("a delegated token (a kernel's, a schedule firing's or a "
                                   "retraining's) cannot issue API tokens")
        token = await self.call(self.access.issue_token, self.username, name)
        self.set_header("Cache-Control", "no-store")
        self.reply({"user": user_name(name), "token": token}, status=201)


class PromotionsHandler(GovernanceHandler):
    """``GET /promotions?status=&model=&limit=``: requests, newest first."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        found = await self.call(self.promotions.list,
                                self.get_query_argument("model", None) or None,
                                self.get_query_argument("status", None) or None,
                                self.query_int("limit", 100, 1, 1000),
                                user=self.username)
        self.reply({"promotions": [p.to_dict() for p in found]})


class ModelPromotionsHandler(GovernanceHandler):
    """``POST /models/{name}/promotions {"version", "comment"?}``: request a promotion."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, name: str) -> None:
        body = self.json_body()
        version = body.get("version")
        if isinstance(version, bool) or not isinstance(version, (int, str)):
            raise InvalidInput("version must be a version number or alias", field="version")
        promotion = await self.call(self.promotions.request, name, version, self.username,
                                    self.text_field(body, "comment"))
        self.reply(promotion.to_dict(), status=201)


class PromotionHandler(GovernanceHandler):
    """``GET /promotions/{id}``: one request with its validation and metrics diff."""

    @web.authenticated
    @authorized
    async def get(self, request_id: str) -> None:
        self.reply((await self.call(self.promotions.get, request_id)).to_dict())


class PromotionDecisionHandler(GovernanceHandler):
    """``POST /promotions/{id}/approve|reject {"comment"}``, ``POST .../cancel``."""

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, request_id: str, decision: str) -> None:
        body = self.json_body()
        if decision == "cancel":
            result = await self.call(self.promotions.cancel, request_id, self.username)
        else:
            method = self.promotions.approve if decision == "approve" else \
                self.promotions.reject
            result = await self.call(method, request_id, self.username,
                                     self.text_field(body, "comment", required=True))
        self.reply(result.to_dict())


class PolicyHandler(GovernanceHandler):
    """``GET|PUT /models/{name}/policy {"required_approvals", "allow_self_approval"}``."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply((await self.call(self.promotions.policy, name)).to_dict())

    @web.authenticated
    @authorized
    @idempotent
    async def put(self, name: str) -> None:
        body = self.json_body()
        unknown = set(body) - {"required_approvals", "allow_self_approval"}
        if unknown:
            raise InvalidInput(f"unknown policy fields: {sorted(unknown)}")
        policy = await self.call(self.promotions.set_policy, name, self.username,
                                 required_approvals=body.get("required_approvals"),
                                 allow_self_approval=body.get("allow_self_approval"))
        self.reply(policy.to_dict())


class PermissionsHandler(GovernanceHandler):
    """``GET|PUT /models/{name}/permissions`` and ``/experiments/{ref}/permissions``
    ``{"readers": [...], "writers": [...], "owner"?}``."""

    def resource(self, kind: str, ref: str) -> tuple[str, str]:
        if kind == "experiments":
            return "experiment", self.mlops.tracking.get_experiment(ref).id
        return "model", ref

    @web.authenticated
    @authorized
    async def get(self, kind: str, ref: str) -> None:
        resource = await self.call(self.resource, kind, ref)
        self.reply((await self.call(self.access.permissions, *resource)).to_dict())

    @web.authenticated
    @authorized
    @idempotent
    async def put(self, kind: str, ref: str) -> None:
        body = self.json_body()
        lists = {}
        for key in ("readers", "writers"):
            value = body.get(key)
            if value is not None and (not isinstance(value, list) or
                                      not all(isinstance(v, str) for v in value)):
                raise InvalidInput(f"{key} must be a list of user names", field=key)
            lists[key] = value
        owner = body.get("owner")
        if owner is not None and not isinstance(owner, str):
            raise InvalidInput("owner must be a user name", field="owner")
        resource = await self.call(self.resource, kind, ref)
        perms = await self.call(self.access.set_permissions, self.username, *resource,
                                owner=owner, **lists)
        self.reply(perms.to_dict())


class AuditBase(GovernanceHandler):
    """Filters shared by the audit routes."""

    def audit_filter(self) -> AuditFilter:
        def ms(key: str) -> int | None:
            raw = self.get_query_argument(key, None)
            if not raw:
                return None
            try:
                value = int(raw)
            except ValueError:
                value = -1
            if not 0 <= value < 2**62:
                raise InvalidInput(f"{key} must be milliseconds since the epoch",
                                   field=key)
            return value

        def text(key: str) -> str | None:
            value = self.get_query_argument(key, None)
            if value and len(value) > 512:
                raise InvalidInput(f"{key} is longer than 512 characters", field=key)
            return value or None

        access, user = self.access, self.username
        with access.db.read() as conn:  # what this reader may not see (admins: nothing)
            experiments = access.hidden(conn, user, "experiment")
            models = access.hidden(conn, user, "model")
        return AuditFilter(text("actor"), text("action"), text("target_type"),
                           text("target"), ms("since"), ms("until"),
                           frozenset(experiments), frozenset(models))


class AuditHandler(AuditBase):
    """``GET /audit?actor=&action=&target_type=&target=&since=&until=&limit=&before=``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        before = self.get_query_argument("before", None)
        events, next_before = await self.call(
            self.access.audit.events, self.audit_filter(),
            limit=self.query_int("limit", 100, 1, 10_000),
            before=self.query_int("before", 0, 1, 2**62) if before else None)
        self.reply({"events": [e.to_dict() for e in events], "next": next_before})


class AuditExportHandler(AuditBase):
    """``GET /audit/export?format=csv|json&<filters>``: a download."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        fmt = self.get_query_argument("format", "csv")
        data = await self.call(self.access.audit.export, fmt, self.audit_filter())
        self.set_header("Content-Disposition", f'attachment; filename="mlops-audit.{fmt}"')
        self.finish(data, set_content_type="text/csv; charset=UTF-8" if fmt == "csv"
                    else "application/json")


class AuditVerifyHandler(AuditBase):
    """``GET /audit/verify``: recompute the hash chain."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        result = (await self.call(self.access.audit.verify)).to_dict()
        me = await self.call(self.access.whoami, self.username)
        if me["role"] != "admin":  # where and what broke names events they may not read
            result.pop("key_ids", None)
            if isinstance(result.get("anchors"), dict):
                result["anchors"].pop("location", None)
            result["problems"] = [{"seq": p["seq"], "kind": p["kind"],
                                   "message": f"the chain is {p['kind']} at #{p['seq']} "
                                              "(an admin sees the details)"}
                                  for p in result["problems"]]
        self.reply(result)


class ModelCardHandler(GovernanceHandler):
    """``GET /models/{name}/versions/{ref}/card?format=markdown|html``;
    ``PUT {"intended_use"}``."""

    @web.authenticated
    @authorized
    async def get(self, name: str, ref: str) -> None:
        fmt = self.get_query_argument("format", "markdown")
        if fmt not in ("markdown", "html"):
            raise InvalidInput("format must be markdown or html", field="format")
        card = await self.call(self.mlops.cards.card, name, ref)
        self.reply({fmt: card.to_markdown() if fmt == "markdown" else card.to_html(),
                    "intended_use": card.intended_use})

    @web.authenticated
    @authorized
    @idempotent
    async def put(self, name: str, ref: str) -> None:
        body = self.json_body()
        text = await self.call(self.mlops.cards.set_intended_use, name, ref, self.username,
                               self.text_field(body, "intended_use", required=True))
        self.reply({"intended_use": text})
