"""Deployments: desired state (revisions), events, tokens and the prediction log.

The service only records what should run; the controller (:mod:`.controller`) makes
worker processes match it. Every change is a new revision, so rollback is "make the
previous revision's desired state current again" (itself a new revision).
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import logging
import os
import re
import secrets
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuleViolation,
    UntrustedModel,
)
from ..registry import RegistryService
from ..store import Database
from ..store import schema as s
from ..tracking.service import now_ms
from .keys import internal_token, serving_key
from .pii import PiiPolicy, check_pii, pii_key
from .records import Deployment, DeploymentEvent, RequestBucket, RequestStats

ENVIRONMENTS = ("staging", "production")
MAX_REPLICAS = 16
#: request statistics: the window (seconds) and bucket count allowed
STATS_WINDOW_SECONDS = (60, 7 * 86400)
STATS_BUCKETS = (1, 240)
#: at most this many latencies are read per request-statistics call (the newest answered
#: requests of the window); counts are exact, percentiles of busier windows are of these
STATS_LATENCY_ROWS = 100_000
#: ``recent_rate`` of the request statistics is over this last part of the window
STATS_RECENT_MS = 60_000
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def token_hash(token: str) -> str:
    """How tokens are stored: sha256 hex (the plain token is shown once, at deploy)."""
    return hashlib.sha256(token.encode()).hexdigest()


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deployment_name(name: object) -> str:
    """Deployment names are DNS-label-like: lowercase letters, digits and ``-``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(f"deployment name {name!r} is not allowed: use 1-63 lowercase "
                           "letters, digits or '-', starting with a letter or digit",
                           field="name")
    return name


def default_name(model: str, environment: str) -> str:
    """The deployment name used when none is given: ``<model>-<environment>``."""
    return f"{model.lower().replace('.', '-').replace('_', '-')}-{environment}"


def check_traffic(traffic: Sequence[Mapping[str, Any]]) -> list[dict[str, int]]:
    """Traffic is a list of {version, weight}; weights are percentages summing to 100."""
    if not isinstance(traffic, (list, tuple)) or not traffic:
        raise InvalidInput("traffic must be a non-empty list of {version, weight}",
                           field="traffic")
    out: list[dict[str, int]] = []
    for item in traffic:
        version, weight = item.get("version"), item.get("weight")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidInput(f"traffic version must be a positive integer: {dict(item)}",
                               field="traffic")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 < weight <= 100:
            raise InvalidInput(f"traffic weight must be an integer percent 1-100: {dict(item)}",
                               field="traffic")
        out.append({"version": version, "weight": weight})
    if sum(t["weight"] for t in out) != 100:
        raise InvalidInput("traffic weights must add up to 100", field="traffic")
    if len({t["version"] for t in out}) != len(out):
        raise InvalidInput("each version may appear once in traffic", field="traffic")
    return out


class ServingService:
    """Desired state of deployments over the registry's versions."""

    def __init__(self, db: Database, registry: RegistryService,
                 home: str | os.PathLike[str] | None = None) -> None:
        self.db = db
        self.registry = registry
        self.access = registry.access
        self.audit = self.access.audit
        self.home = home
        #: called with a deployment's name after its desired state changed (a
        #: controller in this process subscribes, to act without waiting for its poll)
        self.listeners: builtins.list[Callable[[str], None]] = []

    def _guard(self, conn: Connection, user: str, model: str, environment: str) -> None:
        """Staging takes a contributor, production an approver; both need write
        permission on the model."""
        action = "deploy_production" if environment == "production" else "deploy_staging"
        self.access.require(conn, user, action, ("model", model))

    def _audit(self, conn: Connection, user: str, action: str, name: str,
               before: Any, after: Any) -> None:
        self.audit.append(conn, user, f"deployment.{action}", "deployment", name, before,
                          after)

    def _changed(self, name: str) -> None:
        for listener in builtins.list(self.listeners):
            try:
                listener(name)
            except Exception:  # a listener never undoes a committed change
                logging.getLogger(__name__).warning("deployment listener failed",
                                                    exc_info=True)

    def internal_token(self, name: str) -> str:
        """The server-to-worker credential (see :mod:`.keys`)."""
        if self.home is None:
            raise RuleViolation("serving needs a home folder for its host key")
        return internal_token(serving_key(self.home), deployment_name(name))

    def pii_key(self, name: str) -> bytes:
        """The key hashing a deployment's PII columns (see :mod:`.pii`; never stored)."""
        if self.home is None:
            raise RuleViolation("hashing PII needs a home folder for the host key")
        return pii_key(serving_key(self.home), deployment_name(name))

    def pii_policy(self, name: str, desired: Mapping[str, Any]) -> PiiPolicy | None:
        """What a worker applies to logged rows of this desired state (None: nothing)."""
        columns = desired.get("pii") or {}
        if not columns:
            return None
        needs_key = any(mode == "hash" for mode in columns.values())
        return PiiPolicy(columns, self.pii_key(name) if needs_key else None)

    # ---------------------------------------------------------------- desired state
    def deploy(self, model: str, version: int | str, user: str, *, name: str | None = None,
               environment: str = "staging", replicas: int = 1,
               canary: tuple[int | str, int] | None = None, shadow: int | str | None = None,
               port: int | None = None,
               pii: Mapping[str, str] | None = None) -> tuple[Deployment, str | None]:
        """Create (or update) a deployment serving ``model`` at ``version``.

        ``canary=(version, percent)`` sends that share of requests to another version;
        ``shadow`` also runs a version on every request and logs it without returning it.
        ``pii={column: "hash" | "mask" | "drop"}`` changes what the prediction log stores
        of those input columns (see :mod:`.pii`); on an existing deployment, ``None``
        keeps its current setting and ``{}`` clears it.
        Production requires the version to carry ``@production``. Returns the deployment
        and, when it was created, its bearer token (shown only this once).
        """
        if environment not in ENVIRONMENTS:
            raise InvalidInput(f"environment must be staging or production, got "
                               f"{environment!r}", field="environment")
        store = self.registry.artifacts
        if store.process_local:
            raise RuleViolation(
                f"the artifact store {store.root_url} lives in this process's memory; "
                "serving workers are other processes and cannot read it: set "
                "MLOPS_JLAB_ARTIFACTS to a folder or a shared URL such as s3://bucket/prefix")
        main = self._ready_version(model, version)
        if environment == "production" and "production" not in main.aliases:
            raise RuleViolation(
                f"{model} v{main.version} does not carry @production: promote it through the "
                "registry (validation, then set_alias) before deploying to production")
        traffic = [{"version": main.version, "weight": 100}]
        if canary is not None:
            canary_version, percent = canary
            other = self._ready_version(model, canary_version)
            if isinstance(percent, bool) or not isinstance(percent, int) or \
                    not 0 < percent < 100:
                raise InvalidInput("canary percent must be an integer from 1 to 99",
                                   field="canary")
            if other.version == main.version:
                raise InvalidInput("the canary must be another version", field="canary")
            traffic = [{"version": main.version, "weight": 100 - percent},
                       {"version": other.version, "weight": percent}]
        name = deployment_name(name or default_name(model, environment))
        if pii is None:
            try:
                pii = self.get(name).desired.get("pii")
            except NotFound:
                pii = None
        desired = self._desired(model, traffic, shadow, replicas, pii)
        self._preflight(name, model, environment, desired, user)
        token = secrets.token_urlsafe(24)
        created = now_ms()
        try:
            with self.db.write() as conn:
                self._guard(conn, user, model, environment)
                existing = conn.execute(select(s.deployments).where(
                    s.deployments.c.name == name)).first()
                if existing is not None:
                    if existing.model != model:
                        raise Conflict(f"deployment {name!r} serves {existing.model}, "
                                       f"not {model}")
                    if existing.environment != environment:
                        raise Conflict(f"deployment {name!r} is {existing.environment}")
                    self._new_revision(conn, name, desired, "deploy", user)
                    conn.execute(update(s.deployments).where(s.deployments.c.name == name)
                                 .values(status="active", updated_at=created))
                    token_out = None
                else:
                    conn.execute(insert(s.deployments).values(
                        name=name, model=model, environment=environment, status="active",
                        port=port or free_port(), token_hash=token_hash(token), revision=1,
                        created_at=created, created_by=user, updated_at=created))
                    conn.execute(insert(s.deployment_revisions).values(
                        deployment=name, revision=1, desired=desired, reason="deploy",
                        created_at=created, created_by=user))
                    token_out = token
                self._event(conn, name, "deployed", f"{model} {self._describe(desired)} "
                            f"by {user}", {"desired": desired})
                self._audit(conn, user, "deploy", name, None if existing is None else
                            {"status": existing.status},
                            {"model": model, "environment": environment, "desired": desired})
        except IntegrityError:
            raise Conflict(f"deployment {name!r} was created concurrently; retry") from None
        self._changed(name)
        return self.get(name), token_out

    def _preflight(self, name: str, model: str, environment: str,
                   desired: Mapping[str, Any], user: str) -> None:
        """Before a deployment is accepted: the caller may deploy (checked first, so
        nothing is loaded for anyone else), and every version it would serve loads in
        an isolated process (when the registry has one, as a server's does). A version
        that cannot load is refused (422), and an existing deployment records why."""
        with self.db.write() as conn:
            self._guard(conn, user, model, environment)
        versions = {int(t["version"]) for t in desired["traffic"]}
        if desired.get("shadow"):
            versions.add(int(desired["shadow"]))
        try:
            self.registry.preflight(model, versions)
        except UntrustedModel as exc:
            with self.db.write() as conn:
                if conn.execute(select(s.deployments.c.name).where(
                        s.deployments.c.name == name)).first() is not None:
                    self._event(conn, name, "preflight_failed", exc.message, {})
            raise

    def _ready_version(self, model: str, ref: int | str) -> Any:
        version = self.registry.get_version(model, ref)
        if version.status != "ready" or version.archived:
            raise RuleViolation(f"{model} v{version.version} is "
                                f"{'archived' if version.archived else version.status}")
        return version

    def _desired(self, model: str, traffic: list[dict[str, int]], shadow: int | str | None,
                 replicas: int, pii: Mapping[str, str] | None = None) -> dict[str, Any]:
        if isinstance(replicas, bool) or not isinstance(replicas, int) or \
                not 1 <= replicas <= MAX_REPLICAS:
            raise InvalidInput(f"replicas must be an integer from 1 to {MAX_REPLICAS}",
                               field="replicas")
        versions = [self._ready_version(model, t["version"]) for t in traffic]
        shadow_version = None
        if shadow is not None:
            shadow_model = self._ready_version(model, shadow)
            shadow_version = shadow_model.version
            if shadow_version in {t["version"] for t in traffic}:
                raise InvalidInput("the shadow version already takes live traffic",
                                   field="shadow")
            versions.append(shadow_model)
        desired: dict[str, Any] = {"traffic": traffic, "shadow": shadow_version,
                                   "replicas": replicas}
        columns: dict[str, str] = {}
        for v in versions:  # every served version must have the PII columns
            signature = v.signature or {}
            columns = check_pii(pii, [c["name"] for c in signature["inputs"]]
                                if signature.get("inputs") else None)
        if columns:
            desired["pii"] = columns
        return desired

    @staticmethod
    def _describe(desired: Mapping[str, Any]) -> str:
        parts = [f"v{t['version']} {t['weight']}%" for t in desired["traffic"]]
        text = ", ".join(parts)
        if desired.get("shadow"):
            text += f", shadow v{desired['shadow']}"
        if desired.get("pii"):
            text += ", pii " + ", ".join(f"{c}={m}" for c, m in desired["pii"].items())
        return f"{text}, {desired['replicas']} replica(s)"

    def _new_revision(self, conn: Connection, name: str, desired: Mapping[str, Any],
                      reason: str, user: str) -> int:
        revision = int(conn.execute(select(func.max(s.deployment_revisions.c.revision)).where(
            s.deployment_revisions.c.deployment == name)).scalar() or 0) + 1
        conn.execute(insert(s.deployment_revisions).values(
            deployment=name, revision=revision, desired=dict(desired), reason=reason,
            created_at=now_ms(), created_by=user))
        conn.execute(update(s.deployments).where(s.deployments.c.name == name).values(
            revision=revision, updated_at=now_ms()))
        return revision

    def update(self, name: str, user: str, *, traffic: Sequence[Mapping[str, Any]] | None = None,
               replicas: int | None = None, shadow: int | str | None = None,
               clear_shadow: bool = False,
               pii: Mapping[str, str] | None = None) -> Deployment:
        """Change traffic weights, replicas, the shadow version or the PII columns
        (``pii``: ``None`` keeps them, ``{}`` clears them) as a new revision."""
        current = self.get(name)
        desired = dict(current.desired)
        new_traffic = check_traffic(traffic) if traffic is not None else desired["traffic"]
        new_shadow = None if clear_shadow else (shadow if shadow is not None
                                                else desired.get("shadow"))
        new_desired = self._desired(current.model, list(new_traffic), new_shadow,
                                    replicas if replicas is not None else desired["replicas"],
                                    pii if pii is not None else desired.get("pii"))
        if current.environment == "production":
            production = self.registry.get_version(current.model, "production").version
            if all(t["version"] != production for t in new_desired["traffic"]):
                raise RuleViolation("a production deployment must keep serving @production")
        self._preflight(name, current.model, current.environment, new_desired, user)
        with self.db.write() as conn:
            row = self._row(conn, name)
            self._guard(conn, user, row.model, row.environment)
            self._new_revision(conn, name, new_desired, "update", user)
            self._audit(conn, user, "update", name, {"desired": desired},
                        {"desired": new_desired})
            self._event(conn, name, "updated", f"{self._describe(new_desired)} by {user}",
                        {"desired": new_desired})
        self._changed(name)
        return self.get(name)

    def rollback(self, name: str, user: str) -> Deployment:
        """Return to the desired state before the current one (as a new revision)."""
        with self.db.write() as conn:
            row = self._row(conn, name)
            self._guard(conn, user, row.model, row.environment)
            previous = conn.execute(select(s.deployment_revisions.c.desired).where(
                s.deployment_revisions.c.deployment == name,
                s.deployment_revisions.c.revision == row.revision - 1)).scalar()
            if previous is None:
                raise RuleViolation(f"deployment {name!r} has no earlier revision to roll back to")
            self._new_revision(conn, name, previous, "rollback", user)
            conn.execute(update(s.deployments).where(s.deployments.c.name == name)
                         .values(status="active"))
            self._event(conn, name, "rolled_back", f"to {self._describe(previous)} by {user}",
                        {"desired": previous, "from_revision": row.revision})
            self._audit(conn, user, "rollback", name, {"revision": row.revision},
                        {"desired": previous})
        self._changed(name)
        return self.get(name)

    def stop(self, name: str, user: str) -> Deployment:
        """Stop serving (the deployment and its history stay; deploy again to restart)."""
        with self.db.write() as conn:
            row = self._row(conn, name)
            self._guard(conn, user, row.model, row.environment)
            conn.execute(update(s.deployments).where(s.deployments.c.name == name).values(
                status="stopped", updated_at=now_ms()))
            self._event(conn, name, "stopped", f"stopped by {user}", {})
            self._audit(conn, user, "stop", name, {"status": row.status},
                        {"status": "stopped"})
        self._changed(name)
        return self.get(name)

    def follow_production(self, model: str, old: int | None, new: int, user: str
                          ) -> builtins.list[str]:
        """After ``@production`` of ``model`` moved from ``old`` to ``new``: each active
        production deployment serving ``old`` serves ``new`` in its place (a rolling
        update). Returns the names of the deployments it changed."""
        changed = []
        for dep in self.list(include_stopped=False):
            if dep.model != model or dep.environment != "production" or old is None:
                continue
            traffic = [dict(t) for t in dep.desired["traffic"]]
            if all(t["version"] != old for t in traffic):
                continue
            weight = sum(t["weight"] for t in traffic if t["version"] in (old, new))
            traffic = [t for t in traffic if t["version"] not in (old, new)]
            traffic.insert(0, {"version": new, "weight": weight})
            shadow = dep.desired.get("shadow")
            try:
                self.update(dep.name, user, traffic=traffic, clear_shadow=shadow == new)
            except (InvalidInput, RuleViolation, PermissionDenied, NotFound) as exc:
                self.record_event(dep.name, "promotion_not_followed",
                                  f"@production moved v{old} → v{new}, but this deployment "
                                  f"still serves v{old}: {exc}")
                continue
            self.record_event(dep.name, "promoted", f"@production moved v{old} → v{new}; "
                              f"now serving v{new} by {user}")
            changed.append(dep.name)
        return changed

    # ---------------------------------------------------------------- reads
    def _row(self, conn: Connection, name: str) -> Any:
        row = conn.execute(select(s.deployments).where(
            s.deployments.c.name == deployment_name(name))).first()
        if row is None:
            raise NotFound(f"deployment {name!r} does not exist")
        return row

    def get(self, name: str) -> Deployment:
        """A deployment with its current desired state."""
        with self.db.read() as conn:
            row = self._row(conn, name)
            desired = conn.execute(select(s.deployment_revisions.c.desired).where(
                s.deployment_revisions.c.deployment == row.name,
                s.deployment_revisions.c.revision == row.revision)).scalar()
        return Deployment.from_row(row, desired)

    def list(self, include_stopped: bool = True, *, user: str | None = None
             ) -> builtins.list[Deployment]:
        """Every deployment (``user``: only those whose model that user may read)."""
        with self.db.read() as conn:
            hidden = self.access.hidden(conn, user, "model")
            q = select(s.deployments)
            if hidden:
                q = q.where(s.deployments.c.model.not_in(hidden))
            if not include_stopped:
                q = q.where(s.deployments.c.status == "active")
            rows = conn.execute(q.order_by(s.deployments.c.name)).all()
            current = select(s.deployment_revisions.c.deployment,
                             s.deployment_revisions.c.revision,
                             s.deployment_revisions.c.desired).join(
                s.deployments, (s.deployments.c.name == s.deployment_revisions.c.deployment)
                & (s.deployments.c.revision == s.deployment_revisions.c.revision))
            desired = {(r.deployment, r.revision): r.desired
                       for r in conn.execute(current).all()}
        return [Deployment.from_row(r, desired.get((r.name, r.revision))) for r in rows]

    def rotate_token(self, name: str, user: str) -> str:
        """Replace the bearer token; returns the new one (shown only this once).

        Running workers keep the token they started with until their next restart;
        the controller restarts them because the revision changes."""
        token = secrets.token_urlsafe(24)
        with self.db.write() as conn:
            row = self._row(conn, name)
            self._guard(conn, user, row.model, row.environment)
            conn.execute(update(s.deployments).where(s.deployments.c.name == row.name)
                         .values(token_hash=token_hash(token)))
            self._audit(conn, user, "rotate_token", row.name, None, None)
            desired = conn.execute(select(s.deployment_revisions.c.desired).where(
                s.deployment_revisions.c.deployment == row.name,
                s.deployment_revisions.c.revision == row.revision)).scalar()
            self._new_revision(conn, row.name, dict(desired or {}), "rotate_token", user)
            self._event(conn, row.name, "token_rotated", f"new token issued by {user}", {})
        self._changed(row.name)
        return token

    def desired_at(self, name: str, revision: int) -> dict[str, Any]:
        """The desired state of one revision."""
        with self.db.read() as conn:
            desired = conn.execute(select(s.deployment_revisions.c.desired).where(
                s.deployment_revisions.c.deployment == deployment_name(name),
                s.deployment_revisions.c.revision == revision)).scalar()
        if desired is None:
            raise NotFound(f"deployment {name!r} has no revision {revision}")
        return dict(desired)

    def token_hash_of(self, name: str) -> str:
        """The stored (hashed) bearer token, for workers to check requests against."""
        with self.db.read() as conn:
            return str(self._row(conn, name).token_hash)

    def check_token(self, name: str, token: str | None) -> bool:
        """Constant-time check of a bearer token."""
        with self.db.read() as conn:
            row = self._row(conn, name)
        return bool(token) and hmac.compare_digest(row.token_hash, token_hash(str(token)))

    # ---------------------------------------------------------------- controller lease
    def acquire_lease(self, holder: str, ttl_ms: int = 5000) -> bool:
        """Take or renew the single controller lease; False while another holder's is live.

        Exactly one controller (the Jupyter server's, ``mlops-jlab serve``, or one
        embedded in a kernel) reconciles a store at a time.
        """
        now = now_ms()
        with self.db.write() as conn:
            row = conn.execute(select(s.controller_lease).where(
                s.controller_lease.c.id == 1)).first()
            if row is None:
                conn.execute(insert(s.controller_lease).values(
                    id=1, holder=holder, expires_at=now + ttl_ms))
                return True
            if row.holder != holder and row.expires_at > now:
                return False
            conn.execute(update(s.controller_lease).where(s.controller_lease.c.id == 1)
                         .values(holder=holder, expires_at=now + ttl_ms))
            return True

    def release_lease(self, holder: str) -> None:
        """Give the lease up at shutdown so another controller takes over at once."""
        with self.db.write() as conn:
            conn.execute(s.controller_lease.delete().where(
                s.controller_lease.c.id == 1, s.controller_lease.c.holder == holder))

    def lease_holder(self) -> str | None:
        """Who reconciles now (None when nobody holds a live lease)."""
        with self.db.read() as conn:
            row = conn.execute(select(s.controller_lease).where(
                s.controller_lease.c.id == 1)).first()
        return row.holder if row is not None and row.expires_at > now_ms() else None

    # ---------------------------------------------------------------- events and logs
    @staticmethod
    def _event(conn: Connection, name: str, kind: str, message: str,
               data: Mapping[str, Any]) -> None:
        conn.execute(insert(s.deployment_events).values(
            deployment=name, time=now_ms(), kind=kind, message=message, data=dict(data)))

    def record_event(self, name: str, kind: str, message: str,
                     data: Mapping[str, Any] | None = None) -> None:
        """Append an event (the controller reports started/ready/crashed/restarted)."""
        with self.db.write() as conn:
            self._event(conn, name, kind, message, data or {})

    def events(self, name: str, limit: int = 100) -> builtins.list[DeploymentEvent]:
        """Newest events first."""
        with self.db.read() as conn:
            self._row(conn, name)
            rows = conn.execute(select(s.deployment_events).where(
                s.deployment_events.c.deployment == name)
                .order_by(s.deployment_events.c.id.desc()).limit(limit)).all()
        return [DeploymentEvent(r.time, r.kind, r.message, r.data or {}) for r in rows]

    def log_predictions(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Append prediction log rows in one transaction (workers call this in batches).

        ``inputs`` is stored in the column-split form ``{"columns": [...], "data":
        [[...]]}`` (numpy arrays allowed: the store serializes them).
        """
        if not rows:
            return 0
        with self.db.write() as conn:
            conn.execute(insert(s.prediction_log), [dict(r) for r in rows])
        return len(rows)

    def predictions(self, name: str, limit: int = 1000,
                    include_shadow: bool = True) -> builtins.list[dict[str, Any]]:
        """Logged predictions of a deployment, newest first."""
        with self.db.read() as conn:
            q = select(s.prediction_log).where(s.prediction_log.c.deployment == name)
            if not include_shadow:
                q = q.where(s.prediction_log.c.shadow == 0)
            rows = conn.execute(q.order_by(s.prediction_log.c.id.desc()).limit(limit)).all()
        return [{"request_id": r.request_id, "version": r.version, "shadow": bool(r.shadow),
                 "inputs": _records(r.inputs), "outputs": r.outputs,
                 "latency_ms": r.latency_ms, "time": r.time, "status": r.status}
                for r in rows]

    def request_stats(self, name: str, *, window_seconds: int = 3600, buckets: int = 30,
                      user: str | None = None, end: int | None = None) -> RequestStats:
        """Request rate, errors and latency of a deployment, per time bucket.

        The window is ``buckets`` buckets of ``ceil(window_seconds * 1000 / buckets)`` ms
        ending at ``end`` (ms since the epoch; default now), so the last bucket ends now
        and every bucket is full width. Shadow copies are not requests and are left out.
        A request whose logged status is not 200 (inputs refused, the model failed) is
        an error; latency percentiles (p50, p95, ms) are of answered requests, computed
        over the newest :data:`STATS_LATENCY_ROWS` of them in the window (counts are
        exact whatever the traffic). ``user``: who asks, held to the readers of the
        deployment's model. ``window_seconds`` is 60 s to 7 days, ``buckets`` 1 to 240.
        """
        window_seconds = _bounded_int(window_seconds, "window", *STATS_WINDOW_SECONDS)
        buckets = _bounded_int(buckets, "buckets", *STATS_BUCKETS)
        if end is not None:
            end = _bounded_int(end, "end", 0, 2**53)
        end = now_ms() if end is None else end
        bucket_ms = -(-window_seconds * 1000 // buckets)  # ceil: the buckets cover it
        start = end - bucket_ms * buckets
        log = s.prediction_log
        with self.db.read() as conn:
            row = self._row(conn, name)
            self.access.check_read(conn, user, "model", row.model)
            in_window = (log.c.deployment == row.name, log.c.shadow == 0,
                         log.c.time >= start, log.c.time < end)
            # the bucket index in a subquery, so GROUP BY names a column (PostgreSQL
            # would not match two renderings of one expression with bound parameters)
            sub = select(((log.c.time - start) // bucket_ms).label("bucket"),
                         case((log.c.status != 200, 1), else_=0).label("failed"),
                         case((log.c.time >= end - STATS_RECENT_MS, 1), else_=0)
                         .label("recent")).where(*in_window).subquery()
            counted = conn.execute(select(sub.c.bucket, func.count(), func.sum(sub.c.failed),
                                          func.sum(sub.c.recent))
                                   .group_by(sub.c.bucket)).all()
            answered = conn.execute(select(log.c.time, log.c.latency_ms)
                                    .where(*in_window, log.c.status == 200)
                                    .order_by(log.c.time.desc())
                                    .limit(STATS_LATENCY_ROWS)).all()
        requests = [0] * buckets
        failures = [0] * buckets
        recent = 0
        for index, count, failed, recent_count in counted:
            i = min(max(int(index), 0), buckets - 1)
            requests[i] += int(count)
            failures[i] += int(failed or 0)
            recent += int(recent_count or 0)
        times = np.fromiter((r[0] for r in answered), dtype=np.int64, count=len(answered))
        latencies = np.fromiter((r[1] for r in answered), dtype=float, count=len(answered))
        positions = np.clip((times - start) // bucket_ms, 0, buckets - 1)
        percentiles: dict[int, tuple[float, float]] = {}
        for i in np.unique(positions):
            percentiles[int(i)] = _p50_p95(latencies[positions == i])
        seconds = bucket_ms / 1000
        total, errors = sum(requests), sum(failures)
        overall = _p50_p95(latencies) if len(latencies) else None
        return RequestStats(
            deployment=row.name, window_seconds=window_seconds, bucket_ms=bucket_ms,
            start=start, end=end, requests=total, errors=errors,
            error_rate=round(errors / total, 6) if total else None,
            rate=round(total / (seconds * buckets), 6),
            recent_rate=round(recent / (STATS_RECENT_MS / 1000), 6),
            p50_ms=overall[0] if overall else None, p95_ms=overall[1] if overall else None,
            latency_rows=len(latencies), sampled=len(latencies) < total - errors,
            buckets=[RequestBucket(
                start=start + i * bucket_ms, requests=requests[i], errors=failures[i],
                rate=round(requests[i] / seconds, 6),
                p50_ms=percentiles[i][0] if i in percentiles else None,
                p95_ms=percentiles[i][1] if i in percentiles else None)
                for i in range(buckets)])


def _bounded_int(value: object, field: str, low: int, high: int) -> int:
    """``value`` as an integer within [low, high], else :class:`InvalidInput` naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInput(f"{field} must be an integer, got {value!r}", field=field)
    if not low <= int(value) <= high:
        raise InvalidInput(f"{field} must be between {low} and {high}, got {value}",
                           field=field)
    return int(value)


def _p50_p95(latencies: np.ndarray) -> tuple[float, float]:
    """The median and 95th percentile (linear interpolation), in ms to the microsecond."""
    p50, p95 = np.percentile(latencies, [50, 95])
    return round(float(p50), 3), round(float(p95), 3)


def _records(inputs: Any) -> Any:
    """Logged inputs as records (the log stores the column-split form)."""
    if isinstance(inputs, dict) and "columns" in inputs and "data" in inputs:
        columns = inputs["columns"]
        return [dict(zip(columns, row, strict=False)) for row in inputs["data"]]
    return inputs
