"""Model registry: registered models, numbered versions, aliases, rules, validation reports.

Registration is two transactions around the verification of the files: the version is
``pending`` (its number reserved) while every file of the run's model folder is re-hashed
against the content store and checked against the manifest, then becomes ``ready`` with
its file map in one transaction. A crash in between leaves a ``pending`` version, never a
ready one with missing or mismatched files; :meth:`sweep_pending` marks stale ones failed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import (
    ApprovalRequired,
    Conflict,
    InvalidInput,
    NotFound,
    RuleViolation,
    UntrustedModel,
)
from ..governance.access import AccessControl
from ..governance.policy import read_policy
from ..models.folder import MANIFEST
from ..models.isolation import IsolatedModels
from ..models.loaded import LoadedModel
from ..models.loader import (
    PICKLE_SERIALIZERS,
    SAFE_SERIALIZERS,
    check_model_paths,
    load_verified,
)
from ..store import ArtifactStore, Database
from ..store import schema as s
from ..tracking.service import TrackingService, new_id, now_ms
from .names import alias_name, model_name, relative_path
from .records import ModelVersion, RegisteredModel, ValidationReport
from .rules import DEFAULT_RULES, check_rules, run_rules

GOVERNED_ALIASES = ("production", "staging")
STALE_PENDING_MS = 10 * 60 * 1000


def run_model_files(run_id: str, model_path: str,
                    artifacts: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``{file: sha256}`` of the model folder ``model_path`` among a run's artifacts;
    :class:`NotFound` when it has none."""
    prefix = model_path + "/"
    files = {a["path"][len(prefix):]: a["sha256"] for a in artifacts
             if a["path"].startswith(prefix)}
    if not files:
        raise NotFound(f"run {run_id} has no model at {model_path!r}")
    return files


def _crash_point(name: str) -> None:
    """Test hook: ``MLOPS_JLAB_TEST_CRASH_AT=<name>`` kills the process right here."""
    if os.environ.get("MLOPS_JLAB_TEST_CRASH_AT") == name:
        os._exit(17)


class RegistryService:
    """Registered models and their versions over the tracking store."""

    def __init__(self, db: Database, artifacts: ArtifactStore,
                 tracking: TrackingService, access: AccessControl | None = None) -> None:
        self.db = db
        self.artifacts = artifacts
        self.tracking = tracking
        self.access = access or tracking.access
        self.audit = self.access.audit
        self._last_sweep = 0
        #: set by a server: its own model work (validation gates) runs there, in a child
        #: process without secrets, with the server's trusted types (see
        #: :mod:`..models.isolation`); None: in this process (local mode)
        self.isolated: IsolatedModels | None = None

    # ---------------------------------------------------------------- models
    def create_model(self, name: str, user: str, description: str = "",
                     tags: Mapping[str, str] | None = None) -> RegisteredModel:
        """Create a registered model; :class:`Conflict` if the name exists."""
        name = model_name(name)
        try:
            with self.db.write() as conn:
                self.access.require(conn, user, "register")
                conn.execute(insert(s.registered_models).values(
                    name=name, description=description or "", tags=dict(tags or {}), rules=[],
                    created_at=now_ms(), created_by=user))
                self.audit.append(conn, user, "model.create", "model", name, None,
                                  {"description": description or "", "tags": dict(tags or {})})
        except IntegrityError:
            raise Conflict(f"registered model {name!r} already exists") from None
        return self.get_model(name)

    def _ensure_model(self, conn: Connection, name: str, user: str) -> None:
        exists = conn.execute(select(s.registered_models.c.name).where(
            s.registered_models.c.name == name)).first()
        if exists is None:
            conn.execute(insert(s.registered_models).values(
                name=name, description="", tags={}, rules=[], created_at=now_ms(),
                created_by=user))
            self.audit.append(conn, user, "model.create", "model", name, None,
                              {"description": "", "tags": {}})

    def get_model(self, name: str, *, user: str | None = None) -> RegisteredModel:
        """One registered model with its alias map and version count (``user``: who
        asks, held to the model's readers)."""
        name = model_name(name)
        with self.db.read() as conn:
            models = self._models(conn, [name])
            if models:
                self.access.check_read(conn, user, "model", name)
        if not models:
            raise NotFound(f"registered model {name!r} does not exist")
        return models[0]

    def list_models(self, *, user: str | None = None) -> list[RegisteredModel]:
        """Every registered model ``user`` may read, newest activity first."""
        with self.db.read() as conn:
            hidden = self.access.hidden(conn, user, "model")
            models = [m for m in self._models(conn, None) if m.name not in hidden]
        return sorted(models, key=lambda m: m.last_updated, reverse=True)

    def _models(self, conn: Connection, names: list[str] | None) -> list[RegisteredModel]:
        q = select(s.registered_models)
        if names is not None:
            q = q.where(s.registered_models.c.name.in_(names))
        rows = conn.execute(q).all()
        if not rows:
            return []
        mv = s.model_versions.c
        stats = {r[0]: r[1:] for r in conn.execute(
            select(mv.model, func.count(), func.max(mv.version), func.max(mv.created_at))
            .where(mv.model.in_([r.name for r in rows]), mv.status == "ready")
            .group_by(mv.model)).all()}
        aliases: dict[str, dict[str, int]] = {}
        for a in conn.execute(select(s.model_aliases).where(
                s.model_aliases.c.model.in_([r.name for r in rows]))).all():
            aliases.setdefault(a.model, {})[a.alias] = a.version
        out = []
        for r in rows:
            count, latest, last = stats.get(r.name, (0, None, None))
            out.append(RegisteredModel(r.name, r.description, r.tags or {}, r.created_at,
                                       r.created_by, count, latest, aliases.get(r.name, {}),
                                       last or r.created_at))
        return out

    def update_model(self, name: str, user: str, description: str | None = None,
                     tags: Mapping[str, str] | None = None) -> RegisteredModel:
        """Change a model's description or tags."""
        name = model_name(name)
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = str(description)
        if tags is not None:
            values["tags"] = {str(k): str(v) for k, v in tags.items()}
        with self.db.write() as conn:
            row = self._model_row(conn, name)
            self.access.require(conn, user, "register", ("model", name))
            if values:
                conn.execute(update(s.registered_models)
                             .where(s.registered_models.c.name == name).values(**values))
                self.audit.append(conn, user, "model.update", "model", name,
                                  {k: getattr(row, k) for k in values}, values)
        return self.get_model(name)

    def _model_row(self, conn: Connection, name: str) -> Any:
        row = conn.execute(select(s.registered_models).where(
            s.registered_models.c.name == name)).first()
        if row is None:
            raise NotFound(f"registered model {name!r} does not exist")
        return row

    # ---------------------------------------------------------------- registration
    def register(self, run_id: str, name: str, user: str,
                 model_path: str = "model") -> ModelVersion:
        """Register the model folder ``model_path`` of a run as the next version of ``name``."""
        name = model_name(name)
        model_path = relative_path(model_path)
        if now_ms() - self._last_sweep > 60_000:
            self.sweep_pending()
        # a version shows its run's params, metrics, signature and data: registering one
        # takes reading that run (else a restricted run could be copied out)
        self.tracking.require_readable_run(run_id, user)
        prefix = model_path + "/"
        files = {a["path"][len(prefix):]: a["sha256"]
                 for a in self.tracking.list_artifacts(run_id) if a["path"].startswith(prefix)}
        if MANIFEST not in files:
            raise NotFound(f"run {run_id} has no model at {model_path!r} (no "
                           f"{prefix}{MANIFEST}); log one with run.log_model(...)")
        version_id = new_id()
        version = self._reserve(version_id, name, run_id, model_path, user)
        _crash_point("register:pending")
        try:
            manifest = self._verify(files)
        except UntrustedModel as exc:
            self._fail(version_id, str(exc))
            raise
        _crash_point("register:verified")
        with self.db.write() as conn:
            conn.execute(update(s.model_versions).where(
                s.model_versions.c.id == version_id,
                s.model_versions.c.status == "pending").values(
                status="ready", files=files, manifest=manifest,
                metrics=self.tracking.latest_metrics(run_id),
                # decided here from the serializer the loader will use, never taken
                # from the manifest's own claim
                unsafe_serializer=0 if manifest.get("serializer") in SAFE_SERIALIZERS else 1,
                ready_at=now_ms()))
            self.audit.append(conn, user, "version.register", "model", f"{name}/{version}",
                              None, {"run_id": run_id, "model_path": model_path,
                                     "flavor": manifest.get("flavor"),
                                     "manifest_sha256": files[MANIFEST]})
        return self.get_version(name, version)

    def _reserve(self, version_id: str, name: str, run_id: str, model_path: str,
                 user: str) -> int:
        for _attempt in range(5):
            try:
                with self.db.write() as conn:
                    self.access.require(conn, user, "register", ("model", name))
                    self._ensure_model(conn, name, user)
                    version = (conn.execute(select(func.max(s.model_versions.c.version)).where(
                        s.model_versions.c.model == name)).scalar() or 0) + 1
                    conn.execute(insert(s.model_versions).values(
                        id=version_id, model=name, version=version, status="pending",
                        run_id=run_id, model_path=model_path, description="", tags={},
                        archived=0, metrics={}, unsafe_serializer=0, created_at=now_ms(),
                        created_by=user))
                return int(version)
            except IntegrityError:
                continue  # another registration took this number (PostgreSQL): retry
        raise Conflict(f"could not reserve a version number for {name!r}")

    def _verify(self, files: Mapping[str, str]) -> dict[str, Any]:
        """Re-hash every stored file and check it against the manifest (which must name
        a serializer the loader knows)."""
        check_model_paths(files)
        for path, sha in files.items():
            if not self.artifacts.exists(sha):
                raise UntrustedModel(f"model file {path!r} is missing from the artifact store")
            if not self.artifacts.verify(sha):
                raise UntrustedModel(f"model file {path!r} fails its sha256 check")
        manifest = json.loads(self.artifacts.read_bytes(files[MANIFEST]))
        for path, sha in (manifest.get("files") or {}).items():
            if files.get(path) != sha:
                raise UntrustedModel(
                    f"model file {path!r} does not match the hash in its manifest")
        serializer = manifest.get("serializer")
        if serializer not in (*SAFE_SERIALIZERS, *PICKLE_SERIALIZERS):
            raise UntrustedModel(f"the manifest names an unknown serializer {serializer!r}")
        return dict(manifest)

    def _fail(self, version_id: str, error: str) -> None:
        with self.db.write() as conn:
            conn.execute(update(s.model_versions).where(s.model_versions.c.id == version_id)
                         .values(status="failed", error=error))

    def sweep_pending(self, older_than_ms: int = STALE_PENDING_MS) -> int:
        """Mark versions pending for longer than ``older_than_ms`` failed; returns how many."""
        self._last_sweep = now_ms()
        cutoff = self._last_sweep - older_than_ms
        with self.db.write() as conn:
            result = conn.execute(update(s.model_versions).where(
                s.model_versions.c.status == "pending",
                s.model_versions.c.created_at < cutoff).values(
                status="failed", error="registration did not complete (process stopped "
                                       "while verifying files)"))
        return int(result.rowcount or 0)

    # ---------------------------------------------------------------- versions
    def _version_row(self, conn: Connection, name: str, ref: int | str) -> Any:
        name = model_name(name)
        self._model_row(conn, name)
        mv = s.model_versions.c
        if isinstance(ref, str) and ref.lstrip("@").lower() == "latest":
            row = conn.execute(select(s.model_versions).where(
                mv.model == name, mv.status == "ready", mv.archived == 0)
                .order_by(mv.version.desc()).limit(1)).first()
            if row is None:
                raise NotFound(f"model {name!r} has no ready version")
            return row
        number = _as_version(ref)
        if number is None:
            alias = alias_name(ref)
            number = conn.execute(select(s.model_aliases.c.version).where(
                s.model_aliases.c.model == name, s.model_aliases.c.alias == alias)).scalar()
            if number is None:
                raise NotFound(f"model {name!r} has no alias @{alias}")
        row = conn.execute(select(s.model_versions).where(
            mv.model == name, mv.version == number)).first()
        if row is None:
            raise NotFound(f"model {name!r} has no version {number}")
        return row

    def get_version(self, name: str, ref: int | str, *, user: str | None = None
                    ) -> ModelVersion:
        """A version by number, alias (``production`` or ``@production``) or ``latest``."""
        with self.db.read() as conn:
            row = self._version_row(conn, name, ref)
            self.access.check_read(conn, user, "model", row.model)
            return self._versions(conn, [row])[0]

    def list_versions(self, name: str, include_archived: bool = False, *,
                      user: str | None = None) -> list[ModelVersion]:
        """Versions of a model, newest first."""
        name = model_name(name)
        with self.db.read() as conn:
            self._model_row(conn, name)
            self.access.check_read(conn, user, "model", name)
            q = select(s.model_versions).where(s.model_versions.c.model == name)
            if not include_archived:
                q = q.where(s.model_versions.c.archived == 0)
            rows = conn.execute(q.order_by(s.model_versions.c.version.desc())).all()
            return self._versions(conn, rows)

    def _versions(self, conn: Connection, rows: Sequence[Any]) -> list[ModelVersion]:
        if not rows:
            return []
        names = {r.model for r in rows}
        aliases: dict[tuple[str, int], list[str]] = {}
        for a in conn.execute(select(s.model_aliases).where(
                s.model_aliases.c.model.in_(names))).all():
            aliases.setdefault((a.model, a.version), []).append(a.alias)
        latest: dict[str, Any] = {}
        vr = s.validation_reports.c
        for rep in conn.execute(select(vr.id, vr.version_id, vr.passed, vr.created_at).where(
                vr.version_id.in_([r.id for r in rows])).order_by(vr.created_at)).all():
            latest[rep.version_id] = {"id": rep.id, "passed": bool(rep.passed),
                                      "created_at": rep.created_at}
        return [ModelVersion.from_row(r, sorted(aliases.get((r.model, r.version), [])),
                                      latest.get(r.id)) for r in rows]

    def update_version(self, name: str, ref: int | str, user: str, *,
                       description: str | None = None, tags: Mapping[str, str] | None = None,
                       archived: bool | None = None) -> ModelVersion:
        """Change description/tags, or archive (never delete) a version."""
        with self.db.write() as conn:
            row = self._version_row(conn, name, ref)
            self.access.require(conn, user, "register", ("model", row.model))
            values: dict[str, Any] = {}
            if description is not None:
                values["description"] = str(description)
            if tags is not None:
                if not isinstance(tags, Mapping):
                    raise InvalidInput("tags must be an object of strings", field="tags")
                values["tags"] = {str(k): str(v) for k, v in tags.items()}
            if archived is not None:
                if archived:
                    held = conn.execute(select(s.model_aliases.c.alias).where(
                        s.model_aliases.c.model == row.model,
                        s.model_aliases.c.version == row.version)).scalars().all()
                    if held:
                        raise RuleViolation(
                            f"{row.model} v{row.version} holds aliases "
                            f"{', '.join('@' + a for a in held)}: move them before archiving")
                values["archived"] = 1 if archived else 0
            if values:
                conn.execute(update(s.model_versions).where(s.model_versions.c.id == row.id)
                             .values(**values))
                self.audit.append(conn, user, "version.update", "model",
                                  f"{row.model}/{row.version}",
                                  {k: getattr(row, k) for k in values}, values)
        return self.get_version(name, row.version)

    # ---------------------------------------------------------------- aliases
    def set_alias(self, name: str, alias: str, version: int | str, user: str) -> ModelVersion:
        """Point ``alias`` at a version. ``@production`` needs a passing latest validation
        and, unless the model's policy requires no approval, an approved promotion
        request (:class:`ApprovalRequired`: see ``PromotionService``)."""
        alias = alias_name(alias)
        with self.db.write() as conn:
            row = self._version_row(conn, name, version)
            if alias == "production":
                policy = read_policy(conn, row.model)
                if policy.required_approvals > 0:
                    raise ApprovalRequired(
                        f"@production of {row.model} moves only through an approved "
                        f"promotion request: mlops.request_promotion({row.model!r}, "
                        f"{row.version}, comment=...) then an approver's mlops.approve(...) "
                        f"(policy: {policy.required_approvals} approval(s))")
                self.access.require(conn, user, "approve", ("model", row.model))
            else:
                self.access.require(conn, user, "register", ("model", row.model))
            self.move_alias(conn, row, alias, user)
        return self.get_version(name, row.version)

    def move_alias(self, conn: Connection, row: Any, alias: str, user: str,
                   promotion: str | None = None) -> int | None:
        """Point ``alias`` at the version ``row`` inside the caller's transaction, after
        the caller checked who may; returns the version it pointed at before."""
        if row.status != "ready":
            raise RuleViolation(f"{row.model} v{row.version} is {row.status}, not ready")
        if row.archived:
            raise RuleViolation(f"{row.model} v{row.version} is archived")
        if alias == "production":
            self._require_passing_validation(conn, row)
        before = conn.execute(select(s.model_aliases.c.version).where(
            s.model_aliases.c.model == row.model, s.model_aliases.c.alias == alias)).scalar()
        conn.execute(s.model_aliases.delete().where(
            s.model_aliases.c.model == row.model, s.model_aliases.c.alias == alias))
        conn.execute(insert(s.model_aliases).values(
            model=row.model, alias=alias, version=row.version, set_at=now_ms(),
            set_by=user))
        self.audit.append(conn, user, "alias.set", "model", f"{row.model}@{alias}",
                          None if before is None else {"version": before},
                          {"version": row.version, "promotion": promotion})
        return None if before is None else int(before)

    def _require_passing_validation(self, conn: Connection, row: Any) -> None:
        vr = s.validation_reports.c
        report = conn.execute(select(vr.passed, vr.results).where(vr.version_id == row.id)
                              .order_by(vr.created_at.desc()).limit(1)).first()
        if report is None:
            raise RuleViolation(
                f"{row.model} v{row.version} has no validation report: run "
                f"mlops.validate({row.model!r}, {row.version}, data=(X, y)) first")
        if not report.passed:
            failing = [r["rule"] for r in report.results if not r.get("passed")]
            raise RuleViolation(
                f"{row.model} v{row.version} cannot become @production: its latest "
                f"validation failed ({'; '.join(failing)})", failing_rules=failing)

    def delete_alias(self, name: str, alias: str, user: str) -> None:
        """Remove an alias (the version stays)."""
        alias = alias_name(alias)
        name = model_name(name)
        with self.db.write() as conn:
            self._model_row(conn, name)
            self.access.require(conn, user, "approve" if alias == "production" else "register",
                                ("model", name))
            before = conn.execute(select(s.model_aliases.c.version).where(
                s.model_aliases.c.model == name, s.model_aliases.c.alias == alias)).scalar()
            result = conn.execute(s.model_aliases.delete().where(
                s.model_aliases.c.model == name, s.model_aliases.c.alias == alias))
            if not result.rowcount:
                raise NotFound(f"model {name!r} has no alias @{alias}")
            self.audit.append(conn, user, "alias.delete", "model", f"{name}@{alias}",
                              {"version": before}, None)

    # ---------------------------------------------------------------- rules and reports
    def set_rules(self, name: str, rules: Iterable[Mapping[str, Any] | str], user: str
                  ) -> list[dict[str, Any]]:
        """Replace the validation rules of a model (checked for shape first)."""
        checked = check_rules(rules)
        name = model_name(name)
        with self.db.write() as conn:
            self.access.require(conn, user, "register", ("model", name))
            self._ensure_model(conn, name, user)
            before = conn.execute(select(s.registered_models.c.rules).where(
                s.registered_models.c.name == name)).scalar()
            conn.execute(update(s.registered_models).where(
                s.registered_models.c.name == name).values(rules=checked))
            self.audit.append(conn, user, "rules.set", "model", name,
                              {"rules": before or []}, {"rules": checked})
        return checked

    def get_rules(self, name: str) -> list[dict[str, Any]]:
        """The validation rules of a model."""
        with self.db.read() as conn:
            return list(self._model_row(conn, model_name(name)).rules or [])

    def record_validation(self, name: str, ref: int | str, results: list[dict[str, Any]],
                          data: Mapping[str, Any], user: str) -> ValidationReport:
        """Store a validation report on a version (passed = every rule passed)."""
        report_id = new_id()
        passed = all(r.get("passed") for r in results)
        created = now_ms()
        with self.db.write() as conn:
            row = self._version_row(conn, name, ref)
            self.access.require(conn, user, "register", ("model", row.model))
            conn.execute(insert(s.validation_reports).values(
                id=report_id, version_id=row.id, passed=1 if passed else 0, results=results,
                data=dict(data), created_at=created, created_by=user))
            self.audit.append(conn, user, "validation.record", "model",
                              f"{row.model}/{row.version}", None,
                              {"report": report_id, "passed": passed,
                               "failed_rules": [r.get("rule") for r in results
                                                if not r.get("passed")],
                               "data": dict(data)}, time=created)
        return ValidationReport(report_id, row.model, row.version, passed, created, user,
                                dict(data), results)

    def list_validations(self, name: str, ref: int | str) -> list[ValidationReport]:
        """Validation reports of a version, newest first."""
        with self.db.read() as conn:
            row = self._version_row(conn, name, ref)
            reps = conn.execute(select(s.validation_reports).where(
                s.validation_reports.c.version_id == row.id)
                .order_by(s.validation_reports.c.created_at.desc())).all()
        return [ValidationReport(r.id, row.model, row.version, bool(r.passed), r.created_at,
                                 r.created_by, r.data, r.results) for r in reps]

    def validate(self, name: str, ref: int | str, X: Any, y: Any, user: str, *,
                 trusted_types: Iterable[str] = (),
                 data_source: Mapping[str, Any] | None = None) -> ValidationReport:
        """Run the model's rules (or the default checks) on ``(X, y)`` and store the report."""
        from ..tracking.datasets import as_frame, fingerprint

        version = self.get_version(name, ref)
        frame = as_frame(X)
        if y is not None and len(y) != len(frame):
            raise InvalidInput(f"X has {len(frame)} rows but y has {len(y)}")
        rules = self.get_rules(name) or DEFAULT_RULES
        if self.isolated is not None:
            results = self._run_rules_isolated(name, version, rules, frame, y)
            data = {"rows": len(frame), "fingerprint": fingerprint(frame),
                    **(dict(data_source) if data_source else {})}
            return self.record_validation(name, version.version, results, data, user)
        model = self.load_version(name, version.version, trusted_types=trusted_types)

        def production() -> LoadedModel | None:
            try:
                current = self.get_version(name, "production")
            except NotFound:
                return None
            if current.version == version.version:
                return None
            return self.load_version(name, current.version, trusted_types=trusted_types)

        results = run_rules(rules, model, frame, y, production)
        data = {"rows": len(frame), "fingerprint": fingerprint(frame),
                **(dict(data_source) if data_source else {})}
        return self.record_validation(name, version.version, results, data, user)

    def _run_rules_isolated(self, name: str, version: ModelVersion,
                            rules: list[dict[str, Any]], frame: Any, y: Any
                            ) -> list[dict[str, Any]]:
        assert self.isolated is not None
        if version.status != "ready":
            raise RuleViolation(f"{version.name} v{version.version} is {version.status}")
        production: dict[str, str] | None = None
        try:
            current = self.get_version(name, "production")
        except NotFound:
            current = None
        if current is not None and current.version != version.version and \
                current.status == "ready":
            production = dict(current.files or {})
        return self.isolated.run_rules(rules, dict(version.files or {}), production,
                                       frame, y)

    def preflight(self, name: str, versions: Iterable[int]) -> None:
        """Load each version in the isolated process (when this registry has one), as a
        serving worker will: :class:`UntrustedModel` naming the first that cannot."""
        if self.isolated is None:
            return
        wanted = {str(v): self.get_version(name, v) for v in sorted(set(versions))}
        failures = self.isolated.preflight({k: dict(v.files or {}) for k, v in wanted.items()})
        for key, error in sorted(failures.items()):
            if error:
                raise UntrustedModel(f"{name} v{key} cannot be loaded for serving: {error}")

    def validate_with_dataset(self, name: str, ref: int | str, dataset: str,
                              target: str, user: str,
                              dataset_version: int | None = None) -> ValidationReport:
        """Validate on the stored sample of a registered dataset (``target`` = label column)."""
        import pandas as pd

        found = self.tracking.get_dataset(dataset, dataset_version, user=user)
        sample = found["profile"].get("sample") or {}
        frame = pd.DataFrame(sample.get("data") or [], columns=sample.get("columns") or [])
        if target not in frame.columns:
            raise InvalidInput(f"dataset {dataset!r} v{found['version']} has no column "
                               f"{target!r}; columns: {', '.join(frame.columns)}",
                               field="target")
        frame = frame.infer_objects()
        return self.validate(name, ref, frame.drop(columns=[target]), frame[target].to_numpy(),
                             user, data_source={"dataset": dataset,
                                                "dataset_version": found["version"],
                                                "target": target})

    # ---------------------------------------------------------------- loading
    def load_version(self, name: str, ref: int | str, *, trusted_types: Iterable[str] = (),
                     allow_pickle: bool = False) -> LoadedModel:
        """Load a ready version, verifying every file's hash."""
        version = self.get_version(name, ref)
        if version.status != "ready":
            raise RuleViolation(f"{version.name} v{version.version} is {version.status}")
        return load_verified(self.artifacts.read_bytes, version.files or {},
                             uri=f"models:/{version.name}/{version.version}",
                             trusted_types=trusted_types, allow_pickle=allow_pickle)

    def load_run_model(self, run_id: str, model_path: str = "model", *,
                       trusted_types: Iterable[str] = (),
                       allow_pickle: bool = False) -> LoadedModel:
        """Load the model folder of a run (``runs:/<id>/model``)."""
        model_path = relative_path(model_path)
        files = run_model_files(run_id, model_path, self.tracking.list_artifacts(run_id))
        return load_verified(self.artifacts.read_bytes, files,
                             uri=f"runs:/{run_id}/{model_path}",
                             trusted_types=trusted_types, allow_pickle=allow_pickle)


def _as_version(ref: int | str) -> int | None:
    if isinstance(ref, bool):
        raise InvalidInput(f"not a version: {ref!r}")
    if isinstance(ref, int):
        if ref < 1:
            raise InvalidInput(f"versions start at 1, got {ref}")
        return ref
    if isinstance(ref, str) and ref.isdigit():
        return _as_version(int(ref))
    return None

