"""Who may call each route: one table, enforced before a handler runs.

Every route of ``/mlops/api`` declares here, per HTTP method, the action it takes (an
action of :mod:`..governance.roles`, or ``signed_in`` for routes any authenticated caller
may use) and the resource it is scoped to. :meth:`RouteAccess.check` runs in the base
handler's ``prepare`` (see :class:`.base.MlopsHandler`), after Jupyter's authentication
and before the body is parsed, so a caller who may not act learns nothing and costs
nothing: no data is read, no model loaded, nothing computed. The services check again,
inside their transactions (defence in depth); listings leave out what the caller may not
read.

Scopes name where the resource comes from in the path:

| scope | path parameter | resource checked |
| --- | --- | --- |
| ``none`` | | the role only |
| ``experiment`` | ``ref`` (id or name) | that experiment |
| ``run`` | ``run_id`` | the run's experiment |
| ``model`` | ``name`` | that registered model |
| ``deployment`` | ``name`` | the model the deployment serves |
| ``alert`` | ``alert_id`` | the model of the alert's deployment |
| ``promotion`` | ``request_id`` | the model the request promotes |
| ``schedule`` | ``ref`` (id or name) | the schedule (writes: its owner or an admin) |
| ``permissions`` | ``kind``, ``ref`` | that experiment or model |
| ``user`` | ``name`` | the caller themself, or an admin |

``mode`` is what the caller needs on the resource: ``read`` (its readers), ``write`` (its
writers; the default for every action but read) or ``owner`` (its owner or an admin).
The action ``deploy`` stands for ``deploy_staging`` or ``deploy_production``, after the
environment of the deployment in the path.

The OpenAPI document shows each operation's entry as ``x-mlops-access``; a test walks
every operation of that document against this table with every role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ..errors import NotFound, PermissionDenied
from ..governance.roles import ACTIONS, allows, is_system
from ..store import schema as s

SIGNED_IN = "signed_in"
DEPLOY = "deploy"
SCOPES = ("none", "experiment", "run", "model", "deployment", "alert", "promotion",
          "schedule", "permissions", "user")
MODES = ("read", "write", "owner")


@dataclass(frozen=True)
class RouteAccess:
    """What one route-method requires (see the module docstring)."""

    action: str
    scope: str = "none"
    mode: str = ""
    #: the action after a path parameter's value, e.g. a promotion's ``decision``
    by_param: tuple[str, Mapping[str, str]] | None = None

    def __post_init__(self) -> None:
        known = {*ACTIONS, SIGNED_IN, DEPLOY}
        actions = [self.action, *(self.by_param[1].values() if self.by_param else ())]
        if any(a not in known for a in actions):
            raise ValueError(f"unknown action in {self}")
        if self.scope not in SCOPES or (self.mode and self.mode not in MODES):
            raise ValueError(f"unknown scope or mode in {self}")

    @property
    def resource_mode(self) -> str:
        """What the caller needs on the scoped resource."""
        return self.mode or ("read" if self.action in ("read", SIGNED_IN) else "write")

    def to_dict(self) -> dict[str, Any]:
        """The ``x-mlops-access`` entry of the OpenAPI document."""
        out: dict[str, Any] = {"action": self.action, "scope": self.scope,
                               "resource": self.resource_mode}
        if self.by_param:
            out["action_by"] = {"parameter": self.by_param[0], **self.by_param[1]}
        return out

    # ---------------------------------------------------------------- enforcement
    def check(self, conn: Connection, access: Any, user: str,
              path: Mapping[str, str]) -> None:
        """:class:`PermissionDenied` unless ``user`` may call the route with these path
        parameters; :class:`NotFound` when the scoped resource does not exist."""
        if is_system(user):
            raise PermissionDenied("platform actors do not call the REST API")
        role = access.role_of(conn, user)
        action = self.action
        if self.by_param is not None:
            action = self.by_param[1].get(path.get(self.by_param[0], ""), action)
        if action == DEPLOY:
            action = ("deploy_production" if _deployment_environment(conn, path) ==
                      "production" else "deploy_staging")
        if action != SIGNED_IN and not allows(role, action):
            needed = ACTIONS[action]
            raise PermissionDenied(
                f"{user} is a {role}; {action.replace('_', ' ')} takes the {needed} role "
                "(an admin can grant it: mlops-jlab users grant USER ROLE)", needed=needed)
        if self.scope == "none" or role == "admin":
            return
        if self.scope == "user":
            if path.get("name", "").casefold() != user.casefold():
                raise PermissionDenied("only an admin may act for another user")
            return
        if self.scope == "schedule":
            owner = _schedule_owner(conn, path.get("ref", ""))
            if self.resource_mode != "read" and owner != user:
                raise PermissionDenied(f"schedule {path.get('ref')!r} belongs to {owner!r}: "
                                       "only its owner or an admin may change or run it")
            return
        kind, resource = _resource(conn, self.scope, path)
        mode = self.resource_mode
        perms = (access.effective_permissions(conn, kind, resource) if mode == "owner"
                 else access.permissions_or_none(conn, kind, resource))
        if perms is None:
            return  # open to every role holder
        allowed = (perms.may_read(user) if mode == "read" else
                   perms.may_write(user) if mode == "write" else user == perms.owner)
        if not allowed:
            who = {"read": "readable", "write": "writable", "owner": "managed"}[mode]
            raise PermissionDenied(f"{kind} {resource!r} is {who} only by its owner "
                                   f"{perms.owner!r} and the users it lists")


def _one(conn: Connection, query: Any, what: str) -> Any:
    value = conn.execute(query).scalar()
    if value is None:
        raise NotFound(f"{what} does not exist")
    return value


def _deployment_environment(conn: Connection, path: Mapping[str, str]) -> str | None:
    name = path.get("name")
    if not name:
        return None
    return str(_one(conn, select(s.deployments.c.environment).where(
        s.deployments.c.name == name), f"deployment {name!r}"))


def _schedule_owner(conn: Connection, ref: str) -> str:
    t = s.schedules.c
    rows = conn.execute(select(t.id, t.created_by).where((t.id == ref) | (t.name == ref))
                        ).all()
    row = next((r for r in rows if r.id == ref), rows[0] if rows else None)
    if row is None:
        raise NotFound(f"schedule {ref!r} does not exist")
    return str(row.created_by)


def _experiment_id(conn: Connection, ref: str) -> str:
    t = s.experiments.c
    rows = conn.execute(select(t.id).where((t.id == ref) | (t.name == ref))).all()
    ids = [r.id for r in rows]
    if not ids:
        raise NotFound(f"experiment {ref!r} does not exist")
    return str(ref if ref in ids else ids[0])


def _resource(conn: Connection, scope: str, path: Mapping[str, str]) -> tuple[str, str]:
    """(resource type, resource) the scope names, read from the store."""
    if scope == "experiment":
        return "experiment", _experiment_id(conn, path.get("ref", ""))
    if scope == "run":
        run_id = path.get("run_id", "")
        return "experiment", str(_one(conn, select(s.runs.c.experiment_id).where(
            s.runs.c.id == run_id), f"run {run_id!r}"))
    if scope == "model":
        return "model", path.get("name", "")
    if scope == "deployment":
        name = path.get("name", "")
        return "model", str(_one(conn, select(s.deployments.c.model).where(
            s.deployments.c.name == name), f"deployment {name!r}"))
    if scope == "alert":
        alert = path.get("alert_id", "")
        deployment = _one(conn, select(s.alerts.c.deployment).where(s.alerts.c.id == alert),
                          f"alert {alert!r}")
        return "model", str(_one(conn, select(s.deployments.c.model).where(
            s.deployments.c.name == deployment), f"deployment {deployment!r}"))
    if scope == "promotion":
        request = path.get("request_id", "")
        return "model", str(_one(conn, select(s.promotion_requests.c.model).where(
            s.promotion_requests.c.id == request), f"promotion request {request!r}"))
    if scope == "permissions":
        kind = "model" if path.get("kind") == "models" else "experiment"
        ref = path.get("ref", "")
        return kind, (_experiment_id(conn, ref) if kind == "experiment" else ref)
    raise ValueError(f"no resource for scope {scope!r}")


def _a(action: str, scope: str = "none", mode: str = "",
       by_param: tuple[str, Mapping[str, str]] | None = None) -> RouteAccess:
    return RouteAccess(action, scope, mode, by_param)


_READ, _SIGNED_IN = _a("read"), _a(SIGNED_IN)

#: path template (as in the OpenAPI document) -> method -> what it requires
ROUTE_ACCESS: dict[str, dict[str, RouteAccess]] = {
    "/mlops/api/version": {"get": _SIGNED_IN},
    "/mlops/api/openapi.json": {"get": _SIGNED_IN},
    "/mlops/api/me": {"get": _SIGNED_IN},
    # tracking: listings leave out experiments the caller may not read
    "/mlops/api/experiments": {"get": _READ, "post": _a("track")},
    "/mlops/api/experiments/{ref}": {"get": _a("read", "experiment")},
    "/mlops/api/experiments/{ref}/keys": {"get": _a("read", "experiment")},
    "/mlops/api/runs": {"get": _READ, "post": _a("track")},
    "/mlops/api/runs/{run_id}": {"get": _a("read", "run"), "patch": _a("track", "run")},
    "/mlops/api/runs/{run_id}/end": {"post": _a("track", "run")},
    "/mlops/api/runs/{run_id}/params": {"post": _a("track", "run")},
    "/mlops/api/runs/{run_id}/tags": {"post": _a("track", "run")},
    "/mlops/api/runs/{run_id}/steps": {"get": _a("read", "run")},
    "/mlops/api/runs/{run_id}/datasets": {"post": _a("track", "run")},
    "/mlops/api/runs/{run_id}/metrics/{key}": {"get": _a("read", "run")},
    "/mlops/api/metrics": {"post": _a("track")},  # each point's run: in the service
    "/mlops/api/runs/{run_id}/artifacts/{path}": {"get": _a("read", "run"),
                                                  "put": _a("track", "run")},
    "/mlops/api/runs/{run_id}/notebook": {"get": _a("read", "run")},
    # registry
    "/mlops/api/models": {"get": _READ, "post": _a("register")},
    "/mlops/api/models/{name}": {"get": _a("read", "model"), "patch": _a("register", "model")},
    "/mlops/api/models/{name}/rules": {"get": _a("read", "model"),
                                       "put": _a("register", "model")},
    "/mlops/api/models/{name}/versions": {"get": _a("read", "model"),
                                          "post": _a("register", "model")},
    "/mlops/api/models/{name}/versions/{ref}": {"get": _a("read", "model"),
                                                "patch": _a("register", "model")},
    "/mlops/api/models/{name}/versions/{ref}/lineage": {"get": _a("read", "model")},
    "/mlops/api/models/{name}/versions/{ref}/validations": {
        "get": _a("read", "model"), "post": _a("register", "model")},
    "/mlops/api/models/{name}/versions/{ref}/explanations": {
        "get": _a("read", "model"), "post": _a("register", "model")},
    "/mlops/api/models/{name}/versions/{ref}/explanations/{explanation}": {
        "get": _a("read", "model")},
    "/mlops/api/models/{name}/aliases/{alias}": {"put": _a("register", "model"),
                                                 "delete": _a("register", "model")},
    "/mlops/api/models/{name}/versions/{ref}/card": {"get": _a("read", "model"),
                                                     "put": _a("register", "model")},
    # serving: the deployment's model decides who may see or change it
    "/mlops/api/deployments": {"get": _READ, "post": _a("deploy_staging")},
    "/mlops/api/deployments/{name}": {"get": _a("read", "deployment"),
                                      "patch": _a(DEPLOY, "deployment"),
                                      "delete": _a(DEPLOY, "deployment")},
    "/mlops/api/deployments/{name}/events": {"get": _a("read", "deployment")},
    "/mlops/api/deployments/{name}/stats": {"get": _a("read", "deployment")},
    "/mlops/api/deployments/{name}/predict": {"post": _a("read", "deployment")},
    "/mlops/api/deployments/{name}/token": {"post": _a(DEPLOY, "deployment")},
    "/mlops/api/deployments/{name}/feedback": {"post": _a("monitor", "deployment")},
    # monitoring
    "/mlops/api/monitoring/{name}/drift": {"get": _a("read", "deployment"),
                                           "post": _a("monitor", "deployment")},
    "/mlops/api/monitoring/{name}/drift/history": {"get": _a("read", "deployment")},
    "/mlops/api/monitoring/{name}/performance": {"get": _a("read", "deployment")},
    "/mlops/api/monitoring/{name}/rules": {"get": _a("read", "deployment"),
                                           "put": _a("monitor", "deployment")},
    "/mlops/api/monitoring/{name}/evaluate": {"post": _a(DEPLOY, "deployment")},
    "/mlops/api/alerts": {"get": _READ},
    "/mlops/api/alerts/{alert_id}/acknowledge": {"post": _a("monitor", "alert")},
    # governance
    "/mlops/api/users": {"get": _READ},
    "/mlops/api/users/{name}": {"put": _a("admin")},
    "/mlops/api/users/{name}/token": {"post": _a(SIGNED_IN, "user")},
    "/mlops/api/promotions": {"get": _READ},
    "/mlops/api/promotions/{request_id}": {"get": _a("read", "promotion")},
    "/mlops/api/promotions/{request_id}/{decision}": {"post": _a(
        "request_promotion", "promotion", "read",
        by_param=("decision", {"approve": "approve", "reject": "approve",
                               "cancel": "request_promotion"}))},
    "/mlops/api/models/{name}/promotions": {"post": _a("request_promotion", "model")},
    "/mlops/api/models/{name}/policy": {"get": _a("read", "model"),
                                        "put": _a("admin", "model")},
    "/mlops/api/{kind}/{ref}/permissions": {"get": _a("read", "permissions"),
                                            "put": _a("read", "permissions", "owner")},
    "/mlops/api/audit": {"get": _READ},  # events of unreadable resources are left out
    "/mlops/api/audit/export": {"get": _READ},
    "/mlops/api/audit/verify": {"get": _READ},  # problems are detailed to admins only
    # schedules: any user reads them; only the owner (or an admin) changes or fires one
    "/mlops/api/schedules": {"get": _READ, "post": _a("schedule")},
    "/mlops/api/schedules/preview": {"post": _READ},
    "/mlops/api/schedules/{ref}": {"get": _a("read", "schedule"),
                                   "patch": _a("schedule", "schedule"),
                                   "delete": _a("schedule", "schedule")},
    "/mlops/api/schedules/{ref}/run": {"post": _a("schedule", "schedule")},
}


def route_access(template: str, method: str) -> RouteAccess:
    """The declared access of a route-method; a route missing from the table is
    refused to everyone (:class:`PermissionDenied`), so a new route can never leak."""
    entry = ROUTE_ACCESS.get(template, {}).get(method.lower())
    if entry is None:
        raise PermissionDenied(f"{method.upper()} {template} declares no access rule")
    return entry
