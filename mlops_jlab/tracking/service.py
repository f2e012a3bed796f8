"""Tracking service: experiments, runs, params, metrics, tags, artifacts, datasets, search.

Every rule about tracking lives here; the Python API, the magics and the REST
handlers only call these methods, passing the acting user.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from ..governance.access import AccessControl
from ..governance.roles import unsafe_character
from ..store import ArtifactStore, Database
from ..store import schema as s
from ..store.paths import artifact_path as check_artifact_path
from ..store.paths import folder_files
from .datasets import DatasetProfile
from .filter import parse, parse_order_by
from .query import (
    after_cursor,
    apply_order,
    compile_filter,
    decode_token,
    encode_token,
    query_fingerprint,
    required_metric_comparisons,
)
from .records import (
    RUN_STATUSES,
    TERMINAL_STATUSES,
    Experiment,
    MetricPoint,
    Run,
    RunDetail,
    RunPage,
)

MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_LIMIT = 1000
DEFAULT_EXPERIMENT = "Default"

MetricTuple = tuple[str, float | None, int, int]  # key, value, step, timestamp


def now_ms() -> int:
    """Current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """A fresh 32-char hex id."""
    return uuid.uuid4().hex


def check_key(key: object, what: str = "key") -> str:
    """Validate a param/metric/tag key."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(f"{what} must be a non-empty string, got {key!r}")
    if len(key) > MAX_KEY:
        raise InvalidInput(f"{what} {key[:40]!r}... is longer than {MAX_KEY} characters")
    return key


def check_metric_value(key: str, value: object) -> float | None:
    """Coerce a metric value to float; NaN is stored as ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.generic) and np.issubdtype(type(value), np.number):
                value = float(value)
            else:
                raise TypeError
        except TypeError:
            raise InvalidInput(
                f"metric {key!r} must be a number, got {type(value).__name__}") from None
    number = float(value)
    return None if math.isnan(number) else number


def param_text(key: str, value: object) -> str:
    """Text form of a param value (params are stored as text)."""
    text = value if isinstance(value, str) else repr(value) if isinstance(value, float) \
        else str(value)
    if len(text) > MAX_PARAM_VALUE:
        raise InvalidInput(f"param {key!r} is longer than {MAX_PARAM_VALUE} characters")
    return text


class TrackingService:
    """Experiments and runs over one database and one artifact store."""

    def __init__(self, db: Database, artifacts: ArtifactStore,
                 access: AccessControl | None = None) -> None:
        self.db = db
        self.artifacts = artifacts
        self.access = access or AccessControl(db)
        self.audit = self.access.audit
        self._experiments: dict[str, Experiment] = {}

    def _guard_run(self, conn: Connection, user: str, run: Any) -> None:
        """``user`` may write to the run's experiment (role and permissions)."""
        self.access.require(conn, user, "track", ("experiment", run.experiment_id))

    # ---------------------------------------------------------------- experiments
    def create_experiment(self, name: str, user: str,
                          tags: Mapping[str, str] | None = None) -> Experiment:
        """Create an experiment; :class:`Conflict` if the name is taken. Names holding
        control characters, line breaks or bidi controls are refused (they could show
        as another experiment's name)."""
        problem = unsafe_character(name) if isinstance(name, str) else None
        if problem:
            raise InvalidInput(f"experiment name {name!r} holds {problem}", field="name")
        name = self._check_name(name, "experiment name")
        exp = Experiment(new_id(), name, now_ms(), user, dict(tags or {}))
        try:
            with self.db.write() as conn:
                self.access.require(conn, user, "track")
                conn.execute(insert(s.experiments).values(
                    id=exp.id, name=exp.name, created_at=exp.created_at,
                    created_by=user, tags=exp.tags))
                self.audit.append(conn, user, "experiment.create", "experiment", exp.id,
                                  None, {"name": exp.name, "tags": exp.tags})
        except IntegrityError:
            raise Conflict(f"experiment {name!r} already exists") from None
        return exp

    def get_or_create_experiment(self, name: str, user: str) -> Experiment:
        """The experiment called ``name``, created when missing (race-safe)."""
        try:
            return self.get_experiment(name)
        except NotFound:
            pass
        try:
            return self.create_experiment(name, user)
        except Conflict:
            return self.get_experiment(name)

    def _experiment_ref(self, ref: str, user: str) -> Experiment:
        """Id and name of an experiment (created when missing), cached: experiments are
        never renamed or deleted, so a hit needs no query."""
        hit = self._experiments.get(ref)
        if hit is None:
            hit = self.get_or_create_experiment(ref, user)
            self._experiments[hit.id] = self._experiments[hit.name] = hit
        return hit

    def get_experiment(self, ref: str, *, user: str | None = None) -> Experiment:
        """An experiment by id or by name (``user``: who asks, held to its readers)."""
        with self.db.read() as conn:
            row = self._experiment_row(conn, ref)
            self.access.check_read(conn, user, "experiment", row.id)
            counts = self._experiment_counts(conn, [row.id])
        return self._experiment(row, counts)

    def list_experiments(self, *, user: str | None = None) -> list[Experiment]:
        """Every experiment ``user`` may read, most recently active first."""
        with self.db.read() as conn:
            hidden = self.access.hidden(conn, user, "experiment")
            rows = [r for r in conn.execute(select(s.experiments)).all()
                    if r.id not in hidden]
            counts = self._experiment_counts(conn, [r.id for r in rows])
        exps = [self._experiment(r, counts) for r in rows]
        exps.sort(key=lambda e: (e.last_run_at or e.created_at), reverse=True)
        return exps

    def _experiment_row(self, conn: Connection, ref: str) -> Any:
        if not isinstance(ref, str) or not ref:
            raise InvalidInput(f"experiment must be an id or a name, got {ref!r}")
        rows = conn.execute(select(s.experiments).where(
            (s.experiments.c.id == ref) | (s.experiments.c.name == ref))).all()
        # an id wins over a name that happens to look like one
        row = next((r for r in rows if r.id == ref), rows[0] if rows else None)
        if row is None:
            raise NotFound(f"experiment {ref!r} does not exist")
        return row

    @staticmethod
    def _experiment_counts(conn: Connection, ids: list[str]) -> dict[str, tuple[int, int | None]]:
        if not ids:
            return {}
        rows = conn.execute(
            select(s.runs.c.experiment_id, func.count(), func.max(s.runs.c.start_time))
            .where(s.runs.c.experiment_id.in_(ids))
            .group_by(s.runs.c.experiment_id)
        ).all()
        return {r[0]: (r[1], r[2]) for r in rows}

    @staticmethod
    def _experiment(row: Any, counts: dict[str, tuple[int, int | None]]) -> Experiment:
        n, last = counts.get(row.id, (0, None))
        return Experiment(row.id, row.name, row.created_at, row.created_by, row.tags or {},
                          n, last)

    @staticmethod
    def _check_name(name: object, what: str) -> str:
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"{what} must be a non-empty string, got {name!r}")
        if len(name) > 256:
            raise InvalidInput(f"{what} is longer than 256 characters")
        return name.strip()

    # ---------------------------------------------------------------- runs
    def create_run(
        self,
        user: str,
        experiment: str | None = None,
        name: str | None = None,
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        source: Mapping[str, Any] | None = None,
        environment: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        """Start a run in ``experiment`` (created when missing; default "Default")."""
        exp = self._experiment_ref(experiment or DEFAULT_EXPERIMENT, user)
        run_id = new_id()
        start = start_time or now_ms()
        run_name = self._check_name(name, "run name") if name is not None else \
            f"run-{time.strftime('%m%d-%H%M%S', time.localtime(start / 1000))}-{run_id[:4]}"
        param_rows = self._param_rows(run_id, params or {})
        tag_rows = self._tag_rows(run_id, tags or {})
        with self.db.write() as conn:
            self.access.require(conn, user, "track", ("experiment", exp.id))
            if parent_run_id is not None:  # nesting under a run takes reading it
                parent = self._run_row(conn, parent_run_id)
                self.access.check_read(conn, user, "experiment", parent.experiment_id)
            conn.execute(insert(s.runs).values(
                id=run_id, experiment_id=exp.id, name=run_name, status="running", user=user,
                start_time=start, end_time=None, parent_run_id=parent_run_id,
                source=dict(source or {}), environment=dict(environment or {}), error=None))
            if param_rows:
                conn.execute(insert(s.params), param_rows)
            if tag_rows:
                conn.execute(insert(s.tags), tag_rows)
            self.audit.append(conn, user, "run.create", "run", run_id, None, {
                "experiment": exp.id, "name": run_name, "parent": parent_run_id,
                "params": {r["key"]: r["value"] for r in param_rows},
                "tags": {r["key"]: r["value"] for r in tag_rows}})
        return Run(run_id, run_name, exp.id, exp.name, "running", user, start, None,
                   parent_run_id, {r["key"]: r["value"] for r in param_rows},
                   {}, {r["key"]: r["value"] for r in tag_rows}, dict(source or {}))

    @staticmethod
    def _param_rows(run_id: str, params: Mapping[str, object]) -> list[dict[str, str]]:
        return [{"run_id": run_id, "key": check_key(k, "param key"),
                 "value": param_text(k, v)} for k, v in params.items()]

    @staticmethod
    def _tag_rows(run_id: str, tags: Mapping[str, object]) -> list[dict[str, str]]:
        return [{"run_id": run_id, "key": check_key(k, "tag key"), "value": str(v)}
                for k, v in tags.items()]

    def _run_row(self, conn: Connection, run_id: str) -> Any:
        if not isinstance(run_id, str) or not run_id:
            raise InvalidInput(f"run id must be a non-empty string, got {run_id!r}")
        row = conn.execute(select(s.runs).where(s.runs.c.id == run_id)).first()
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist")
        return row

    def log_params(self, run_id: str, params: Mapping[str, object], user: str) -> None:
        """Record params; re-logging a key with another value is a :class:`Conflict`."""
        rows = self._param_rows(run_id, params)
        if not rows:
            return
        with self.db.write() as conn:
            self._guard_run(conn, user, self._run_row(conn, run_id))
            existing = dict(conn.execute(
                select(s.params.c.key, s.params.c.value).where(
                    s.params.c.run_id == run_id,
                    s.params.c.key.in_([r["key"] for r in rows]))).all())
            for r in rows:
                old = existing.get(r["key"])
                if old is not None and old != r["value"]:
                    raise Conflict(
                        f"param {r['key']!r} of run {run_id} is already {old!r}; params are "
                        f"immutable (log {r['value']!r} under another key or as a tag)")
            new = [r for r in rows if r["key"] not in existing]
            if new:
                conn.execute(insert(s.params), new)
                self.audit.append(conn, user, "run.params", "run", run_id, None,
                                  {r["key"]: r["value"] for r in new})

    def set_tags(self, run_id: str, tags: Mapping[str, object], user: str) -> None:
        """Set (or overwrite) tags on a run."""
        rows = self._tag_rows(run_id, tags)
        if not rows:
            return
        keys = [r["key"] for r in rows]
        with self.db.write() as conn:
            self._guard_run(conn, user, self._run_row(conn, run_id))
            before = dict(conn.execute(select(s.tags.c.key, s.tags.c.value).where(
                s.tags.c.run_id == run_id, s.tags.c.key.in_(keys))).all())
            conn.execute(s.tags.delete().where(
                s.tags.c.run_id == run_id, s.tags.c.key.in_(keys)))
            conn.execute(insert(s.tags), rows)
            self.audit.append(conn, user, "run.tags", "run", run_id, before or None,
                              {r["key"]: r["value"] for r in rows})

    def log_metrics(self, points: Sequence[tuple[str, str, float | None, int, int]],
                    user: str) -> int:
        """Append metric points ``(run_id, key, value, step, timestamp)`` in one transaction.

        Values must already be validated (see :func:`check_metric_value`). The
        latest-value table keeps, per run and key, the point with the highest step
        (then the newest timestamp). Returns the number of points written.
        """
        if not points:
            return 0
        with self.db.write() as conn:
            self._guard_runs(conn, user, {p[0] for p in points})
            return self._write_points(conn, points)

    def _guard_runs(self, conn: Connection, user: str, run_ids: set[str]) -> None:
        """``user`` may write to the experiments of all these runs. Metric points are
        data, not governance: they are checked but not written to the audit trail
        (the run's creation and end are)."""
        experiments = set(conn.execute(select(s.runs.c.experiment_id).where(
            s.runs.c.id.in_(run_ids))).scalars())
        self.access.require(conn, user, "track")
        for experiment in experiments:
            self.access.require(conn, user, "track", ("experiment", experiment))

    def _write_points(self, conn: Connection,
                      points: Sequence[tuple[str, str, float | None, int, int]]) -> int:
        latest: dict[tuple[str, str], tuple[float | None, int, int]] = {}
        rows = []
        for run_id, key, value, step, ts in points:
            if value is not None and value != value:  # NaN: stored as missing everywhere
                value = None
            rows.append((run_id, key, step, value, ts))
            cur = latest.get((run_id, key))
            if cur is None or (step, ts) >= (cur[1], cur[2]):
                latest[(run_id, key)] = (value, step, ts)
        run_ids = {p[0] for p in points}
        found = set(conn.execute(
            select(s.runs.c.id).where(s.runs.c.id.in_(run_ids))).scalars())
        missing = run_ids - found
        if missing:
            raise NotFound(f"run {sorted(missing)[0]!r} does not exist")
        # Driver-level executemany: SQLAlchemy's per-row parameter processing would
        # cost more than the insert itself at hundreds of thousands of points.
        quote = conn.dialect.identifier_preparer.quote
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        columns = ", ".join(quote(c) for c in ("run_id", "key", "step", "value", "timestamp"))
        conn.exec_driver_sql(
            f"INSERT INTO {quote('metrics')} ({columns}) VALUES ({', '.join([mark] * 5)})",
            rows)
        self._upsert_latest(conn, latest)
        return len(rows)

    @staticmethod
    def _upsert_latest(conn: Connection,
                       latest: dict[tuple[str, str], tuple[float | None, int, int]]) -> None:
        # Plain SQL (the same on SQLite and PostgreSQL): keeps, per run and key, the
        # point with the highest step, then the newest timestamp.
        q = conn.dialect.identifier_preparer.quote
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        t, key, value, step, ts = (q("latest_metrics"), q("key"), q("value"), q("step"),
                                   q("timestamp"))
        conn.exec_driver_sql(
            f"INSERT INTO {t} (run_id, {key}, {value}, {step}, {ts}) "
            f"VALUES ({', '.join([mark] * 5)}) "
            f"ON CONFLICT (run_id, {key}) DO UPDATE SET {value} = excluded.{value}, "
            f"{step} = excluded.{step}, {ts} = excluded.{ts} "
            f"WHERE excluded.{step} > {t}.{step} OR "
            f"(excluded.{step} = {t}.{step} AND excluded.{ts} >= {t}.{ts})",
            [(r, k, v, st, stamp) for (r, k), (v, st, stamp) in latest.items()])

    def last_steps(self, run_id: str, *, user: str | None = None) -> dict[str, int]:
        """Highest step logged per metric key of a run (to continue auto-numbering)."""
        with self.db.read() as conn:
            if user is not None:
                run = self._run_row(conn, run_id)
                self.access.check_read(conn, user, "experiment", run.experiment_id)
            rows = conn.execute(
                select(s.metrics.c.key, func.max(s.metrics.c.step))
                .where(s.metrics.c.run_id == run_id).group_by(s.metrics.c.key)).all()
        return {k: int(v) for k, v in rows}

    def end_run(self, run_id: str, user: str, status: str = "finished",
                error: str | None = None, end_time: int | None = None,
                points: Sequence[tuple[str, str, float | None, int, int]] = ()) -> None:
        """Mark a run finished, failed or killed; ``points`` (the run's last buffered
        metric points) are written in the same transaction."""
        if status not in TERMINAL_STATUSES:
            raise InvalidInput(
                f"status must be one of {', '.join(TERMINAL_STATUSES)}, got {status!r}")
        with self.db.write() as conn:
            row = self._run_row(conn, run_id)
            self._guard_run(conn, user, row)
            if row.status in TERMINAL_STATUSES and row.status != status:
                raise RuleViolation(f"run {run_id} already ended as {row.status}")
            if points:
                self._guard_runs(conn, user, {p[0] for p in points} - {run_id})
                self._write_points(conn, points)
            conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(
                status=status, end_time=end_time or now_ms(),
                error=error if error is not None else row.error))
            if row.status != status:
                self.audit.append(conn, user, "run.end", "run", run_id,
                                  {"status": row.status},
                                  {"status": status, "error": error})

    def update_run(self, run_id: str, user: str, *, name: str | None = None,
                   source: Mapping[str, Any] | None = None,
                   environment: Mapping[str, Any] | None = None) -> None:
        """Rename a run or merge more source/environment facts into it."""
        with self.db.write() as conn:
            row = self._run_row(conn, run_id)
            self._guard_run(conn, user, row)
            values: dict[str, Any] = {}
            if name is not None:
                values["name"] = self._check_name(name, "run name")
            if source:
                values["source"] = {**(row.source or {}), **source}
            if environment:
                values["environment"] = {**(row.environment or {}), **environment}
            if values:
                conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(**values))
                self.audit.append(conn, user, "run.update", "run", run_id,
                                  {k: getattr(row, k) for k in values}, values)

    # ---------------------------------------------------------------- artifacts
    def log_artifact(self, run_id: str, local_path: str | os.PathLike[str], user: str,
                     artifact_path: str | None = None) -> list[dict[str, Any]]:
        """Store a file, or a folder recursively, under the run's artifact path."""
        src = Path(local_path)
        if not src.exists():
            raise InvalidInput(f"no such file or folder: {str(src)!r}")
        prefix = (artifact_path or "").rstrip("/")
        if artifact_path:  # no "..", no absolute path, no control characters
            check_artifact_path(prefix)
        files: list[str | Path]
        if src.is_dir():  # symbolic links out of the folder are refused
            files, names = [], []
            for full, rel in folder_files(src):
                files.append(full)
                names.append(f"{prefix}/{rel}" if prefix else rel)
        else:
            files = [src]
            names = [check_artifact_path(f"{prefix}/{src.name}" if prefix else src.name)]
        with self.db.read() as conn:
            self._run_row(conn, run_id)
        stored = []
        for path, name in zip(files, names, strict=True):
            blob = self.artifacts.put_file(path)
            stored.append({"path": name, "sha256": blob.sha256, "size": blob.size})
        return self._record_artifacts(run_id, stored, user)

    def log_artifact_bytes(self, run_id: str, path: str, data: bytes,
                           user: str) -> dict[str, Any]:
        """Store in-memory content as an artifact of the run."""
        path = check_artifact_path(path.rstrip("/") if isinstance(path, str) else path)
        with self.db.read() as conn:
            self._run_row(conn, run_id)
        blob = self.artifacts.put_bytes(data)
        return self._record_artifacts(
            run_id, [{"path": path, "sha256": blob.sha256, "size": blob.size}], user)[0]

    def _record_artifacts(self, run_id: str, stored: list[dict[str, Any]],
                          user: str) -> list[dict[str, Any]]:
        created = now_ms()
        with self.db.write() as conn:
            self._guard_run(conn, user, self._run_row(conn, run_id))
            conn.execute(s.artifacts.delete().where(
                s.artifacts.c.run_id == run_id,
                s.artifacts.c.path.in_([a["path"] for a in stored])))
            conn.execute(insert(s.artifacts),
                         [{"run_id": run_id, "created_at": created, **a} for a in stored])
            self.audit.append(conn, user, "run.artifact", "run", run_id, None,
                              {"artifacts": stored}, time=created)
        return stored

    def list_artifacts(self, run_id: str) -> list[dict[str, Any]]:
        """Artifacts of a run: path, sha256, size."""
        with self.db.read() as conn:
            self._run_row(conn, run_id)
            rows = conn.execute(
                select(s.artifacts.c.path, s.artifacts.c.sha256, s.artifacts.c.size)
                .where(s.artifacts.c.run_id == run_id).order_by(s.artifacts.c.path)).all()
        return [{"path": r.path, "sha256": r.sha256, "size": r.size} for r in rows]

    def artifact_blob(self, run_id: str, path: str, *,
                      user: str | None = None) -> dict[str, Any]:
        """The stored blob behind one artifact path of a run (the path is checked as it
        comes in and as it was stored: a row edited in the database is refused;
        ``user``: who asks, held to the experiment's readers)."""
        check_artifact_path(path)
        with self.db.read() as conn:
            run = self._run_row(conn, run_id)
            self.access.check_read(conn, user, "experiment", run.experiment_id)
            row = conn.execute(select(s.artifacts).where(
                s.artifacts.c.run_id == run_id, s.artifacts.c.path == path)).first()
        if row is None:
            raise NotFound(f"run {run_id} has no artifact {path!r}")
        check_artifact_path(row.path, "stored artifact path")
        return {"path": row.path, "sha256": row.sha256, "size": row.size,
                "created_at": row.created_at}

    # ---------------------------------------------------------------- datasets
    def log_dataset(self, run_id: str, profile: DatasetProfile, user: str,
                    role: str = "train") -> dict[str, Any]:
        """Link a dataset version to a run; same name and fingerprint reuse the version."""
        role = check_key(role, "dataset role")
        name = self._check_name(profile.name, "dataset name")
        for _attempt in range(3):
            try:
                with self.db.write() as conn:
                    self._guard_run(conn, user, self._run_row(conn, run_id))
                    row = conn.execute(select(s.datasets).where(
                        s.datasets.c.name == name,
                        s.datasets.c.fingerprint == profile.fingerprint)).first()
                    if row is None:
                        version = (conn.execute(select(func.max(s.datasets.c.version)).where(
                            s.datasets.c.name == name)).scalar() or 0) + 1
                        dataset_id = new_id()
                        conn.execute(insert(s.datasets).values(
                            id=dataset_id, name=name, version=version,
                            fingerprint=profile.fingerprint, rows=profile.rows,
                            schema=profile.schema, profile=profile.profile,
                            created_at=now_ms(), created_by=user))
                    else:
                        dataset_id, version = row.id, row.version
                    conn.execute(s.run_datasets.delete().where(
                        s.run_datasets.c.run_id == run_id,
                        s.run_datasets.c.dataset_id == dataset_id,
                        s.run_datasets.c.role == role))
                    conn.execute(insert(s.run_datasets).values(
                        run_id=run_id, dataset_id=dataset_id, role=role))
                    self.audit.append(conn, user, "run.dataset", "run", run_id, None, {
                        "dataset": name, "version": version, "role": role,
                        "fingerprint": profile.fingerprint, "rows": profile.rows})
                return {"id": dataset_id, "name": name, "version": version, "role": role,
                        "fingerprint": profile.fingerprint, "rows": profile.rows,
                        "schema": profile.schema}
            except IntegrityError:
                continue  # another writer took this version number: retry
        raise Conflict(f"could not record dataset {name!r}: concurrent writers")

    def get_dataset(self, name: str, version: int | None = None, *,
                    user: str | None = None) -> dict[str, Any]:
        """A dataset version with its full profile (newest version by default);
        ``user``: held to reading it (see :meth:`_check_dataset_readable`)."""
        with self.db.read() as conn:
            q = select(s.datasets).where(s.datasets.c.name == name)
            q = q.where(s.datasets.c.version == version) if version is not None else \
                q.order_by(s.datasets.c.version.desc())
            row = conn.execute(q.limit(1)).first()
            if row is None:
                raise NotFound(f"dataset {name!r}" + (f" version {version}" if version
                                                      else "") + " does not exist")
            self._check_dataset_readable(conn, row, user)
        return {"id": row.id, "name": row.name, "version": row.version,
                "fingerprint": row.fingerprint, "rows": row.rows, "schema": row.schema,
                "profile": row.profile, "created_at": row.created_at,
                "created_by": row.created_by}

    def _check_dataset_readable(self, conn: Connection, row: Any, user: str | None) -> None:
        """A dataset's data (its profile and stored sample) is as private as the runs
        that logged it: readable by its creator, or by who may read one of those runs'
        experiments (with no run, by everyone)."""
        if user is None or row.created_by == user:
            return
        experiments = {r.experiment_id for r in conn.execute(
            select(s.runs.c.experiment_id).join(
                s.run_datasets, s.run_datasets.c.run_id == s.runs.c.id).where(
                s.run_datasets.c.dataset_id == row.id)).all()}
        if not experiments:
            return
        denied: PermissionDenied | None = None
        for experiment in sorted(experiments):
            try:
                self.access.check_read(conn, user, "experiment", experiment)
                return
            except PermissionDenied as exc:
                denied = exc
        assert denied is not None
        raise PermissionDenied(f"dataset {row.name!r} v{row.version} was logged only by "
                               f"runs you may not read ({denied.message})")

    def require_readable_run(self, run_id: str, user: str | None) -> None:
        """:class:`PermissionDenied` unless ``user`` may read the run (its experiment);
        :class:`NotFound` for an unknown run."""
        with self.db.read() as conn:
            row = self._run_row(conn, run_id)
            self.access.check_read(conn, user, "experiment", row.experiment_id)

    # ---------------------------------------------------------------- reads
    def get_run(self, run_id: str, *, user: str | None = None) -> RunDetail:
        """Everything recorded about one run."""
        with self.db.read() as conn:
            row = conn.execute(
                select(s.runs, s.experiments.c.name.label("experiment_name"))
                .join(s.experiments, s.experiments.c.id == s.runs.c.experiment_id)
                .where(s.runs.c.id == run_id)).first()
            if row is None:
                raise NotFound(f"run {run_id!r} does not exist")
            self.access.check_read(conn, user, "experiment", row.experiment_id)
            params, metrics, tags = self._key_values(conn, [run_id])
            keys = list(conn.execute(
                select(s.latest_metrics.c.key).where(s.latest_metrics.c.run_id == run_id)
                .order_by(s.latest_metrics.c.key)).scalars())
            arts = conn.execute(
                select(s.artifacts.c.path, s.artifacts.c.sha256, s.artifacts.c.size)
                .where(s.artifacts.c.run_id == run_id).order_by(s.artifacts.c.path)).all()
            dsets = conn.execute(
                select(s.datasets.c.id, s.datasets.c.name, s.datasets.c.version,
                       s.datasets.c.fingerprint, s.datasets.c.rows, s.datasets.c.schema,
                       s.run_datasets.c.role)
                .join(s.run_datasets, s.run_datasets.c.dataset_id == s.datasets.c.id)
                .where(s.run_datasets.c.run_id == run_id)).all()
        return RunDetail(
            row.id, row.name, row.experiment_id, row.experiment_name, row.status, row.user,
            row.start_time, row.end_time, row.parent_run_id, params.get(run_id, {}),
            metrics.get(run_id, {}), tags.get(run_id, {}), row.source or {},
            environment=row.environment or {}, metric_keys=keys,
            artifacts=[{"path": a.path, "sha256": a.sha256, "size": a.size} for a in arts],
            datasets=[{"id": d.id, "name": d.name, "version": d.version, "role": d.role,
                       "fingerprint": d.fingerprint, "rows": d.rows, "schema": d.schema}
                      for d in dsets],
            error=row.error)

    def latest_metrics(self, run_id: str) -> dict[str, float | None]:
        """Latest value of each metric of a run."""
        with self.db.read() as conn:
            self._run_row(conn, run_id)
            return dict(conn.execute(
                select(s.latest_metrics.c.key, s.latest_metrics.c.value)
                .where(s.latest_metrics.c.run_id == run_id)).all())

    def metric_history(self, run_id: str, key: str, *, user: str | None = None
                       ) -> list[MetricPoint]:
        """Every point of one metric of a run, by step then time."""
        with self.db.read() as conn:
            run = self._run_row(conn, run_id)
            self.access.check_read(conn, user, "experiment", run.experiment_id)
            rows = conn.execute(
                select(s.metrics.c.step, s.metrics.c.value, s.metrics.c.timestamp)
                .where(s.metrics.c.run_id == run_id, s.metrics.c.key == key)
                .order_by(s.metrics.c.step, s.metrics.c.timestamp, s.metrics.c.id)).all()
        if not rows:
            raise NotFound(f"run {run_id} has no metric {key!r}")
        return [MetricPoint(r.step, r.value, r.timestamp) for r in rows]

    def search_runs(
        self,
        experiments: Iterable[str] | str | None = None,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        limit: int = 100,
        page_token: str | None = None,
        *,
        user: str | None = None,
        count: bool = False,
    ) -> RunPage:
        """Runs matching ``filter`` in ``experiments`` (ids or names; ``None`` = all).

        Ordered by ``order_by`` (default newest first), ``limit`` per page (max 1000),
        continued with the opaque ``page_token`` of the previous page. ``count`` also
        counts every matching run (``RunPage.total``; one more query).
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
        node = parse(filter) if filter and filter.strip() else None
        terms = parse_order_by(order_by)
        refs = [experiments] if isinstance(experiments, str) else list(experiments or [])
        with self.db.read() as conn:
            exp_ids = sorted({self._experiment_row(conn, ref).id for ref in refs})
            for exp_id in exp_ids:
                self.access.check_read(conn, user, "experiment", exp_id)
            hidden = self.access.hidden(conn, user, "experiment")
            query: Any = (select(s.runs.c.id, s.runs.c.name, s.runs.c.experiment_id,
                            s.experiments.c.name.label("experiment_name"), s.runs.c.status,
                            s.runs.c.user, s.runs.c.start_time, s.runs.c.end_time,
                            s.runs.c.parent_run_id, s.runs.c.source)
                     .select_from(s.runs.join(
                         s.experiments, s.experiments.c.id == s.runs.c.experiment_id)))
            if exp_ids:
                query = query.where(s.runs.c.experiment_id.in_(exp_ids))
            if hidden:
                query = query.where(s.runs.c.experiment_id.not_in(sorted(hidden)))
            joined = required_metric_comparisons(node, terms)
            moved = frozenset(id(c) for cs in joined.values() for c in cs)
            query = query.where(compile_filter(node, moved))
            query, keys = apply_order(query, terms, joined)
            total = (conn.execute(select(func.count()).select_from(
                query.order_by(None).subquery())).scalar_one() if count else None)
            fingerprint = query_fingerprint(exp_ids, filter or "", [
                (str(t.field), t.descending) for t in terms])
            if page_token:
                query = query.where(after_cursor(keys, decode_token(
                    page_token, fingerprint, len(keys))))
            rows = conn.execute(query.limit(limit + 1)).all()
            more = len(rows) > limit
            rows = rows[:limit]
            params, metrics, tags = self._key_values(conn, [r.id for r in rows])
        runs = [Run(r.id, r.name, r.experiment_id, r.experiment_name, r.status, r.user,
                    r.start_time, r.end_time, r.parent_run_id, params.get(r.id, {}),
                    metrics.get(r.id, {}), tags.get(r.id, {}), r.source or {}) for r in rows]
        token = None
        if more and rows:
            last = rows[-1]._mapping
            token = encode_token(fingerprint, [last[k.label] for k in keys])
        return RunPage(runs, token, total)

    def experiment_keys(self, ref: str, *, user: str | None = None) -> dict[str, list[str]]:
        """The param, metric and tag keys used by the runs of an experiment, sorted:
        what a filter or a column can name (``{"params", "metrics", "tags"}``)."""
        with self.db.read() as conn:
            row = self._experiment_row(conn, ref)
            self.access.check_read(conn, user, "experiment", row.id)
            in_experiment = select(s.runs.c.id).where(s.runs.c.experiment_id == row.id)
            keys: dict[str, list[str]] = {}
            for name, table in (("params", s.params), ("metrics", s.latest_metrics),
                                ("tags", s.tags)):
                keys[name] = sorted(conn.execute(
                    select(table.c.key).distinct()
                    .where(table.c.run_id.in_(in_experiment))).scalars())
        return keys

    @staticmethod
    def _key_values(conn: Connection, run_ids: list[str]) -> tuple[
            dict[str, dict[str, str]], dict[str, dict[str, float | None]],
            dict[str, dict[str, str]]]:
        """Params, latest metrics and tags of many runs: three indexed look-ups through
        the driver (no per-row SQLAlchemy processing on this hot path)."""
        params: dict[str, dict[str, str]] = {}
        metrics: dict[str, dict[str, float | None]] = {}
        tags: dict[str, dict[str, str]] = {}
        if not run_ids:
            return params, metrics, tags
        q = conn.dialect.identifier_preparer.quote
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        marks = ", ".join([mark] * len(run_ids))
        for table, out in (("params", params), ("tags", tags), ("latest_metrics", metrics)):
            rows = conn.exec_driver_sql(
                f"SELECT run_id, {q('key')}, {q('value')} FROM {q(table)} "
                f"WHERE run_id IN ({marks})", tuple(run_ids)).fetchall()
            for run_id, key, value in rows:
                out.setdefault(run_id, {})[key] = value
        return params, metrics, tags


__all__ = ["RUN_STATUSES", "TrackingService", "check_key", "check_metric_value", "now_ms"]
