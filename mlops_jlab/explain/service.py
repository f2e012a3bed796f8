"""Explanations stored on model versions: record, list, get.

Who may register versions of a model may store explanations of them (the ``register``
action, checked in the write transaction like every registry write, and audited as
``explanation.record``); who may read the model may read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select

from ..errors import NotFound, RuleViolation
from ..store import schema as s
from ..tracking.service import new_id, now_ms
from .records import check_payload, summary

LATEST = "latest"


class ExplanationService:
    """Explanation records of model versions, over the registry's store and access rules."""

    def __init__(self, db: Any, registry: Any) -> None:
        self.db = db
        self.registry = registry
        self.access = registry.access

    def record(self, name: str, version: int | str, payload: Mapping[str, Any],
               user: str) -> dict[str, Any]:
        """Store an explanation of a ready version (``version``: number, alias or
        ``latest``); returns the full record with its id."""
        body = check_payload(payload)
        explanation_id, created = new_id(), now_ms()
        with self.db.write() as conn:
            row = self.registry._version_row(conn, name, version)
            self.access.require(conn, user, "register", ("model", row.model))
            if row.status != "ready":
                raise RuleViolation(f"{row.model} v{row.version} is {row.status}, not ready")
            conn.execute(insert(s.model_explanations).values(
                id=explanation_id, version_id=row.id, created_at=created, created_by=user,
                payload=body))
            self.access.audit.append(
                conn, user, "explanation.record", "model", f"{row.model}/{row.version}", None,
                {"explanation": explanation_id, "rows": body["rows"],
                 "scoring": body["scoring"], "local_method": body["local_method"],
                 "data_fingerprint": body["data_fingerprint"],
                 "top_features": [i["feature"] for i in body["importance"][:5]]},
                time=created)
        return self._record(explanation_id, row, created, user, body)

    def list(self, name: str, version: int | str = LATEST, *, user: str | None = None
             ) -> list[dict[str, Any]]:
        """Summaries (no figures, local rows or partial dependence), newest first."""
        with self.db.read() as conn:
            row = self._readable_version(conn, name, version, user)
            me = s.model_explanations.c
            rows = conn.execute(select(s.model_explanations).where(me.version_id == row.id)
                                .order_by(me.created_at.desc(), me.id.desc())).all()
        return [summary(self._record(r.id, row, r.created_at, r.created_by, r.payload))
                for r in rows]

    def get(self, name: str, version: int | str = LATEST, explanation: str = LATEST, *,
            user: str | None = None) -> dict[str, Any]:
        """One full record, by id or ``latest``; :class:`NotFound` when there is none."""
        with self.db.read() as conn:
            row = self._readable_version(conn, name, version, user)
            me = s.model_explanations.c
            q = select(s.model_explanations).where(me.version_id == row.id)
            if str(explanation).lower() == LATEST:
                q = q.order_by(me.created_at.desc(), me.id.desc()).limit(1)
            else:
                q = q.where(me.id == str(explanation))
            found = conn.execute(q).first()
        if found is None:
            what = "explanation" if str(explanation).lower() == LATEST else \
                f"explanation {explanation!r}"
            raise NotFound(f"model {row.model} v{row.version} has no {what}")
        return self._record(found.id, row, found.created_at, found.created_by, found.payload)

    def latest_background(self, name: str, version: int) -> dict[str, Any] | None:
        """The per-feature reference of the version's latest explanation, or None
        (what a serving worker explains against)."""
        try:
            return dict(self.get(name, version)["background"])
        except NotFound:
            return None

    def _readable_version(self, conn: Connection, name: str, version: int | str,
                          user: str | None) -> Any:
        row = self.registry._version_row(conn, name, version)
        self.access.check_read(conn, user, "model", row.model)
        return row

    @staticmethod
    def _record(explanation_id: str, row: Any, created: int, user: str,
                payload: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": explanation_id, "model": row.model, "version": int(row.version),
                "created_at": int(created), "created_by": user, **payload}
