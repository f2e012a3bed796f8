"""Schedules: a notebook or pipeline file, a cron expression in a time zone, parameters.

The service holds every rule: who may schedule (contributors), which files (notebooks
and pipeline files; with a ``root``, only those inside it), valid cron and time zone,
and the firing bookkeeping the runner relies on:

- a firing is *claimed* in one write transaction that moves the schedule's
  ``next_run_at`` past now, so each fire time runs once even with two runners;
- when several fire times passed unseen (the server was down), the older ones are
  recorded as ``missed`` and only the newest runs, as a ``catch-up``: reported, never
  silently skipped, and never a burst of stale runs.
"""

from __future__ import annotations

import builtins
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..governance.access import AccessControl
from ..governance.roles import SCHEDULER
from ..store import Database
from ..store import schema as s
from ..store.paths import is_inside
from . import cron

KINDS = {"notebook": (".ipynb",), "pipeline": (".yaml", ".yml")}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
HISTORY = 50
#: a fire time this late (ms) still counts as on time
GRACE_MS = 120_000


def _new_id() -> str:
    import uuid

    return uuid.uuid4().hex


class ScheduleService:
    """Schedules and their firings in one store (see the module docstring)."""

    def __init__(self, db: Database, access: AccessControl,
                 root: str | os.PathLike[str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.access = access
        self.audit = access.audit
        #: with a root (the Jupyter root in the server), paths are relative to it and
        #: must stay inside it; without one, any path, as given
        self.root = Path(root).resolve() if root else None
        self.clock = clock

    def now_ms(self) -> int:
        """The service's clock in epoch ms (tests give a fake clock)."""
        return int(self.clock() * 1000)

    # ---------------------------------------------------------------- checks
    def _path(self, kind: object, path: object) -> str:
        if kind not in KINDS:
            raise InvalidInput(f"target kind must be 'notebook' or 'pipeline', got {kind!r}",
                               field="target")
        if not isinstance(path, str) or not path.strip():
            raise InvalidInput("target path must be a file path", field="target")
        if not path.lower().endswith(KINDS[str(kind)]):
            raise InvalidInput(f"a {kind} target must end in "
                               f"{' or '.join(KINDS[str(kind)])}: {path!r}", field="target")
        if self.root is not None:
            full = self.root / path
            if Path(path).is_absolute() or not is_inside(self.root, full):
                raise InvalidInput(f"target {path!r} is outside the server's root folder",
                                   field="target")
        else:
            full = Path(path).expanduser()
        full = full.resolve()
        if not full.is_file():
            raise InvalidInput(f"no such {kind}: {path!r}", field="target")
        if kind == "pipeline":
            from ..automation.pipeline import load_pipeline

            load_pipeline(full)  # PipelineError (400) names what is wrong
        return str(full)

    def shown_path(self, stored: str) -> str:
        """A stored (absolute) path as users see it: relative to the root when set."""
        if self.root is not None and is_inside(self.root, stored):
            return os.path.relpath(os.path.realpath(stored), self.root)
        return stored

    @staticmethod
    def _name(name: object) -> str:
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidInput(f"schedule name {name!r} is not allowed: use 1-128 letters, "
                               "digits, '.', '_' or '-'", field="name")
        return name

    @staticmethod
    def _parameters(value: object) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise InvalidInput("parameters must be an object of name: value",
                               field="parameters")
        import json

        try:
            json.dumps(dict(value))
        except (TypeError, ValueError):
            raise InvalidInput("parameters must be JSON values", field="parameters") from None
        return dict(value)

    # ---------------------------------------------------------------- reading
    def _row(self, conn: Connection, ref: str) -> Any:
        row = conn.execute(select(s.schedules).where(
            (s.schedules.c.id == ref) | (s.schedules.c.name == ref))).first()
        if row is None:
            raise NotFound(f"no schedule {ref!r}", schedule=ref)
        return row

    def _owned(self, conn: Connection, ref: str, user: str) -> Any:
        """The schedule, when ``user`` may change or fire it: its owner or an admin (a
        firing acts as the owner, so nobody else may point it at other code)."""
        role = self.access.require(conn, user, "schedule")
        row = self._row(conn, ref)
        if role != "admin" and row.created_by != user:
            raise PermissionDenied(f"schedule {row.name!r} belongs to {row.created_by}: only "
                                   "its owner or an admin may change, delete or run it")
        return row

    def _firing(self, row: Any) -> dict[str, Any]:
        return {"id": row.id, "schedule_id": row.schedule_id,
                "scheduled_for": row.scheduled_for, "started_at": row.started_at,
                "ended_at": row.ended_at, "status": row.status, "trigger": row.trigger,
                "run_id": row.run_id, "error": row.error}

    def _describe(self, conn: Connection, row: Any, history: int = 0) -> dict[str, Any]:
        f = s.schedule_firings
        recent = [self._firing(r) for r in conn.execute(
            select(f).where(f.c.schedule_id == row.id)
            .order_by(f.c.scheduled_for.desc(), f.c.started_at.desc())
            .limit(max(history, HISTORY)))]
        out = {"id": row.id, "name": row.name, "cron": row.cron, "timezone": row.timezone,
               "description": cron.describe(row.cron),
               "target": {"kind": row.kind, "path": self.shown_path(row.path)},
               "parameters": dict(row.parameters or {}), "experiment": row.experiment,
               "paused": bool(row.paused), "created_by": row.created_by,
               "created_at": row.created_at, "updated_at": row.updated_at,
               "next_run_at": row.next_run_at,
               "last": next((r for r in recent if r["status"] != "missed"),
                            recent[0] if recent else None),
               "missed": sum(r["status"] == "missed" for r in recent),
               "running": any(r["status"] == "running" for r in recent)}
        if history:
            out["history"] = recent[:history]
        return out

    def list(self, user: str | None = None) -> list[dict[str, Any]]:
        """Every schedule, by name (every user reads them, as deployments)."""
        with self.db.read() as conn:
            rows = conn.execute(select(s.schedules).order_by(s.schedules.c.name)).all()
            return [self._describe(conn, r) for r in rows]

    def get(self, ref: str, user: str | None = None, history: int = HISTORY) -> dict[str, Any]:
        """One schedule (by id or name) with its latest ``history`` firings."""
        with self.db.read() as conn:
            return self._describe(conn, self._row(conn, ref), history=max(1, history))

    def stored_path(self, ref: str) -> tuple[str, str]:
        """(kind, absolute path) of a schedule's target, for the runner."""
        with self.db.read() as conn:
            row = self._row(conn, ref)
            return row.kind, row.path

    def preview(self, expr: object, tz: object = "UTC", count: int = 5) -> dict[str, Any]:
        """The description and next ``count`` fire times of an expression."""
        zone = str(tz or "UTC")
        cron.zone(zone)
        text = cron.check(expr, zone)
        return {"cron": text, "timezone": zone, "description": cron.describe(text),
                "next": cron.next_after(text, zone, self.now_ms(), max(1, min(count, 20)))}

    # ---------------------------------------------------------------- writing
    def create(self, user: str, name: str, cron_expr: str, kind: str, path: str,
               parameters: Mapping[str, Any] | None = None, experiment: str | None = None,
               timezone: str = "UTC", paused: bool = False) -> dict[str, Any]:
        """A new schedule; it first fires at the next time its cron matches."""
        name = self._name(name)
        cron.zone(timezone)
        expr = cron.check(cron_expr, timezone)
        full = self._path(kind, path)
        params = self._parameters(parameters)
        if experiment is not None and (not isinstance(experiment, str) or not experiment):
            raise InvalidInput("experiment must be a name", field="experiment")
        now = self.now_ms()
        row = {"id": _new_id(), "name": name, "cron": expr, "timezone": timezone,
               "kind": kind, "path": full, "parameters": params, "experiment": experiment,
               "paused": int(bool(paused)), "created_by": user, "created_at": now,
               "updated_at": now,
               "next_run_at": None if paused else cron.next_after(expr, timezone, now)[0]}
        with self.db.write() as conn:
            self.access.require(conn, user, "schedule")
            if conn.execute(select(s.schedules.c.id).where(
                    s.schedules.c.name == name)).first() is not None:
                raise Conflict(f"a schedule called {name!r} exists", schedule=name)
            conn.execute(insert(s.schedules).values(**row))
            self.audit.append(conn, user, "schedule.create", "schedule", name, None,
                              _audited(row))
            return self._describe(conn, self._row(conn, str(row["id"])))

    def update(self, ref: str, user: str, **changes: Any) -> dict[str, Any]:
        """Change name, cron, timezone, target, parameters, experiment or paused.
        Resuming or changing the timing computes the next fire time from now."""
        allowed = {"name", "cron", "timezone", "target", "parameters", "experiment", "paused"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}; changeable: "
                               f"{', '.join(sorted(allowed))}")
        with self.db.write() as conn:
            row = self._owned(conn, ref, user)
            values: dict[str, Any] = {}
            if "name" in changes and changes["name"] != row.name:
                values["name"] = self._name(changes["name"])
                if conn.execute(select(s.schedules.c.id).where(
                        s.schedules.c.name == values["name"])).first() is not None:
                    raise Conflict(f"a schedule called {values['name']!r} exists")
            tz = changes.get("timezone", row.timezone)
            if "timezone" in changes:
                cron.zone(tz)
                values["timezone"] = tz
            if "cron" in changes:
                values["cron"] = cron.check(changes["cron"], tz)
            if "target" in changes:
                target = changes["target"]
                if not isinstance(target, Mapping):
                    raise InvalidInput("target must be {kind, path}", field="target")
                values["kind"] = target.get("kind")
                values["path"] = self._path(target.get("kind"), target.get("path"))
            if "parameters" in changes:
                values["parameters"] = self._parameters(changes["parameters"])
            if "experiment" in changes:
                exp = changes["experiment"]
                if exp is not None and (not isinstance(exp, str) or not exp):
                    raise InvalidInput("experiment must be a name or null", field="experiment")
                values["experiment"] = exp
            paused = bool(changes.get("paused", row.paused))
            if "paused" in changes:
                if not isinstance(changes["paused"], bool):
                    raise InvalidInput("paused must be true or false", field="paused")
                values["paused"] = int(paused)
            timing = {"cron", "timezone", "paused"} & set(values)
            if timing:
                values["next_run_at"] = None if paused else cron.next_after(
                    values.get("cron", row.cron), tz, self.now_ms())[0]
            if not values:
                return self._describe(conn, row)
            values["updated_at"] = self.now_ms()
            conn.execute(update(s.schedules).where(s.schedules.c.id == row.id).values(**values))
            action = ("schedule.pause" if values.get("paused") == 1 and not row.paused else
                      "schedule.resume" if values.get("paused") == 0 and row.paused else
                      "schedule.update")
            self.audit.append(conn, user, action, "schedule", row.name,
                              _audited(row._asdict()), _audited({**row._asdict(), **values}))
            return self._describe(conn, self._row(conn, row.id))

    def delete(self, ref: str, user: str) -> str:
        """Remove a schedule and its history; returns its id."""
        with self.db.write() as conn:
            row = self._owned(conn, ref, user)
            conn.execute(delete(s.schedule_firings).where(
                s.schedule_firings.c.schedule_id == row.id))
            conn.execute(delete(s.schedules).where(s.schedules.c.id == row.id))
            self.audit.append(conn, user, "schedule.delete", "schedule", row.name,
                              _audited(row._asdict()), None)
            return str(row.id)

    # ---------------------------------------------------------------- firing
    def claim_due(self) -> builtins.list[tuple[dict[str, Any], dict[str, Any]]]:
        """Fire every schedule whose time came: (schedule, firing) pairs to execute.

        Fire times that passed unseen before the newest are recorded as ``missed``; the
        newest runs (``cron`` when on time, ``catch-up`` when late)."""
        now = self.now_ms()
        out = []
        with self.db.write() as conn:
            # FOR UPDATE (PostgreSQL): a second runner skips the rows this one fires
            rows = conn.execute(select(s.schedules).where(
                s.schedules.c.paused == 0, s.schedules.c.next_run_at.is_not(None),
                s.schedules.c.next_run_at <= now).with_for_update(skip_locked=True)).all()
            for row in rows:
                times = cron.due_between(row.cron, row.timezone, int(row.next_run_at), now)
                *missed, newest = times
                for when in missed:
                    conn.execute(insert(s.schedule_firings).values(
                        id=_new_id(), schedule_id=row.id, scheduled_for=when, started_at=None,
                        ended_at=None, status="missed", trigger="cron", run_id=None,
                        error="not run: the scheduler was not running at this time"))
                late = now - newest > GRACE_MS
                firing = {"id": _new_id(), "schedule_id": row.id, "scheduled_for": newest,
                          "started_at": now, "ended_at": None, "status": "running",
                          "trigger": "catch-up" if late else "cron", "run_id": None,
                          "error": None}
                conn.execute(insert(s.schedule_firings).values(**firing))
                nxt = cron.next_after(row.cron, row.timezone, now)[0]
                conn.execute(update(s.schedules).where(
                    s.schedules.c.id == row.id, s.schedules.c.next_run_at == row.next_run_at)
                    .values(next_run_at=nxt))
                out.append((self._describe(conn, self._row(conn, row.id)), firing))
        return out

    def start_manual(self, ref: str, user: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A firing now, outside the cron timing (``manual``); the schedule's next fire
        time is unchanged. Conflict when the schedule is running already."""
        now = self.now_ms()
        with self.db.write() as conn:
            row = self._owned(conn, ref, user)
            f = s.schedule_firings
            busy = conn.execute(select(func.count()).select_from(f).where(
                f.c.schedule_id == row.id, f.c.status == "running")).scalar_one()
            if busy:
                raise Conflict(f"schedule {row.name!r} is running already", schedule=row.name)
            firing = {"id": _new_id(), "schedule_id": row.id, "scheduled_for": now,
                      "started_at": now, "ended_at": None, "status": "running",
                      "trigger": "manual", "run_id": None, "error": None}
            conn.execute(insert(f).values(**firing))
            self.audit.append(conn, user, "schedule.run", "schedule", row.name, None,
                              {"firing": firing["id"]})
            return self._describe(conn, row), firing

    def finish(self, firing_id: str, status: str, run_id: str | None = None,
               error: str | None = None) -> None:
        """Record how a firing ended (``succeeded`` or ``failed``)."""
        if status not in ("succeeded", "failed"):
            raise InvalidInput(f"a firing ends succeeded or failed, not {status!r}")
        with self.db.write() as conn:
            conn.execute(update(s.schedule_firings).where(
                s.schedule_firings.c.id == firing_id).values(
                status=status, run_id=run_id, error=error, ended_at=self.now_ms()))

    def set_run(self, firing_id: str, run_id: str) -> None:
        """Link a running firing to the run it started (as soon as it is known)."""
        with self.db.write() as conn:
            conn.execute(update(s.schedule_firings).where(
                s.schedule_firings.c.id == firing_id).values(run_id=run_id))

    def recover(self, running_here: Iterable[str] = ()) -> int:
        """Firings left ``running`` by a process that stopped: failed, saying so. Those
        in ``running_here`` (executing in the caller's process, e.g. a "run now" pressed
        before the runner's first pass) are left to finish and record themselves."""
        f = s.schedule_firings.c
        keep = sorted(set(running_here))
        with self.db.write() as conn:
            done = conn.execute(update(s.schedule_firings).where(
                f.status == "running", f.id.not_in(keep)).values(
                status="failed", ended_at=self.now_ms(),
                error="interrupted: the scheduler stopped while this ran"))
            return int(done.rowcount or 0)

    def actor(self, schedule: Mapping[str, Any]) -> str:
        """Who a firing acts as: the schedule's creator (the scheduler when unknown)."""
        return str(schedule.get("created_by") or SCHEDULER)


def _audited(row: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("name", "cron", "timezone", "kind", "path", "parameters", "experiment", "paused")
    return {k: row[k] for k in keys if k in row}
