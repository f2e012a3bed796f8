"""Team mode's governance calls over REST: identity and roles, permissions,
promotions and policies, the audit trail and model cards. The same methods as the
services (``user``/``actor`` arguments are ignored: the server decides who acts),
returning the same records."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..governance.access import Permissions, User
from ..governance.approvals import Decision, Promotion
from ..governance.audit import AuditEvent, AuditFilter, ChainProblem, Verification
from ..governance.policy import Policy


def _q(part: object) -> str:
    return quote(str(part), safe="")


def _filters(flt: AuditFilter | None) -> dict[str, Any]:
    if flt is None:
        return {}
    return {k: v for k, v in vars(flt).items() if v is not None}


def promotion(body: dict[str, Any]) -> Promotion:
    """A :class:`Promotion` from its JSON."""
    fields = {k: body.get(k) for k in (
        "id", "model", "version", "alias", "requester", "comment", "status", "created_at",
        "decided_at", "required_approvals", "self_approval")}
    out = Promotion(**fields, decisions=[Decision(**d) for d in body.get("decisions", [])])
    out.validation = body.get("validation")
    out.production_version = body.get("production_version")
    out.metrics_diff = list(body.get("metrics_diff") or [])
    return out


class HttpAudit:
    """The audit trail over REST."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def events(self, flt: AuditFilter | None = None, *, limit: int = 100,
               before: int | None = None) -> tuple[list[AuditEvent], int | None]:
        params = {**_filters(flt), "limit": limit}
        if before is not None:
            params["before"] = before
        body = self.http.json("GET", "/audit", params=params)
        return [AuditEvent(**e) for e in body["events"]], body.get("next")

    def export(self, fmt: str, flt: AuditFilter | None = None) -> bytes:
        response = self.http.request("GET", "/audit/export",
                                     params={**_filters(flt), "format": fmt})
        return bytes(response.content)

    def verify(self) -> Verification:
        body = self.http.json("GET", "/audit/verify")
        return Verification(body["ok"], body["events"], body["head"],
                            [ChainProblem(**p) for p in body["problems"]],
                            legacy=body.get("legacy", 0), key_ids=body.get("key_ids", []),
                            anchors=body.get("anchors"))


class HttpAccess:
    """Identity, roles and permissions over REST."""

    def __init__(self, http: Any) -> None:
        self.http = http
        self.audit = HttpAudit(http)

    def whoami(self, user: str | None = None) -> dict[str, Any]:
        return dict(self.http.json("GET", "/me"))

    def users(self) -> list[User]:
        return [User(**u) for u in self.http.json("GET", "/users")["users"]]

    def issue_token(self, actor: str, user: str) -> str:
        body = self.http.json("POST", f"/users/{_q(user)}/token", json={})
        return str(body["token"])

    def grant(self, actor: str, user: str, role: str) -> User:
        return User(**self.http.json("PUT", f"/users/{_q(user)}", json={"role": role}))

    def _path(self, resource_type: str, resource: str) -> str:
        kind = "experiments" if resource_type == "experiment" else "models"
        return f"/{kind}/{_q(resource)}/permissions"

    def permissions(self, resource_type: str, resource: str) -> Permissions:
        body = self.http.json("GET", self._path(resource_type, resource))
        return Permissions(resource_type, resource, body["owner"], body["readers"],
                           body["writers"])

    def set_permissions(self, actor: str, resource_type: str, resource: str, *,
                        readers: Iterable[str] | None = None,
                        writers: Iterable[str] | None = None,
                        owner: str | None = None) -> Permissions:
        payload: dict[str, Any] = {}
        if readers is not None:
            payload["readers"] = list(readers)
        if writers is not None:
            payload["writers"] = list(writers)
        if owner is not None:
            payload["owner"] = owner
        body = self.http.json("PUT", self._path(resource_type, resource), json=payload)
        return Permissions(resource_type, resource, body["owner"], body["readers"],
                           body["writers"])


class HttpPromotions:
    """Promotion requests, decisions and policies over REST."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def policy(self, model: str) -> Policy:
        return Policy(**self.http.json("GET", f"/models/{_q(model)}/policy"))

    def set_policy(self, model: str, user: str, *, required_approvals: int | None = None,
                   allow_self_approval: bool | None = None) -> Policy:
        payload = {k: v for k, v in (("required_approvals", required_approvals),
                                     ("allow_self_approval", allow_self_approval))
                   if v is not None}
        return Policy(**self.http.json("PUT", f"/models/{_q(model)}/policy", json=payload))

    def request(self, model: str, version: int | str, user: str, comment: str = ""
                ) -> Promotion:
        return promotion(self.http.json("POST", f"/models/{_q(model)}/promotions",
                                        json={"version": version, "comment": comment}))

    def approve(self, request_id: str, user: str, comment: str) -> Promotion:
        return promotion(self.http.json("POST", f"/promotions/{_q(request_id)}/approve",
                                        json={"comment": comment}))

    def reject(self, request_id: str, user: str, comment: str) -> Promotion:
        return promotion(self.http.json("POST", f"/promotions/{_q(request_id)}/reject",
                                        json={"comment": comment}))

    def cancel(self, request_id: str, user: str) -> Promotion:
        return promotion(self.http.json("POST", f"/promotions/{_q(request_id)}/cancel",
                                        json={}))

    def list(self, model: str | None = None, status: str | None = None,
             limit: int = 100) -> builtins.list[Promotion]:
        params: dict[str, Any] = {"limit": limit}
        if model:
            params["model"] = model
        if status:
            params["status"] = status
        body = self.http.json("GET", "/promotions", params=params)
        return [promotion(p) for p in body["promotions"]]

    def get(self, request_id: str) -> Promotion:
        return promotion(self.http.json("GET", f"/promotions/{_q(request_id)}"))


@dataclass
class RemoteModelCard:
    """A model card as the server rendered it (Markdown and HTML)."""

    model: str
    version: int | str
    markdown: str
    html: str
    intended_use: str

    def to_markdown(self) -> str:
        return self.markdown

    def to_html(self) -> str:
        return self.html

    def _repr_html_(self) -> str:
        return self.html

    def _repr_markdown_(self) -> str:
        return self.markdown

    def save(self, path: str) -> str:
        text = self.markdown if str(path).endswith(".md") else \
            f"<!doctype html><meta charset='utf-8'>{self.html}"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return str(path)


class HttpCards:
    """Model cards over REST."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def card(self, model: str, version: int | str = "latest") -> RemoteModelCard:
        path = f"/models/{_q(model)}/versions/{_q(version)}/card"
        md = self.http.json("GET", path, params={"format": "markdown"})
        html = self.http.json("GET", path, params={"format": "html"})
        return RemoteModelCard(model, version, md["markdown"], html["html"],
                               md["intended_use"])

    def set_intended_use(self, model: str, version: int | str, user: str, text: str) -> str:
        body = self.http.json("PUT", f"/models/{_q(model)}/versions/{_q(version)}/card",
                              json={"intended_use": text})
        return str(body["intended_use"])
