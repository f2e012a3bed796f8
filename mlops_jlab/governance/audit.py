"""The audit trail: append-only, hash-chained events.

Every mutating service call appends one event *in the transaction of the change*, so
an event exists exactly when its change was committed. Each event stores the hash of
the one before; ``audit_head`` holds the newest sequence number and hash. Appending
updates that row first, which serializes appenders (SQLite's write lock, PostgreSQL's
row lock) so the chain stays linear under concurrent writers.

:meth:`AuditLog.verify` recomputes the chain and names every break: an *edited* event
(its stored hash no longer matches its content), a *deleted* one (a gap in the
sequence), *reordered* events (a stored ``prev_hash`` that is not the previous
event's hash) and a *truncated* tail (the head points past the last event).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, select

from ..errors import InvalidInput
from ..store import schema as s
from ..store.codec import dumps as codec_dumps
from ..store.db import Database

GENESIS = "0" * 64
EXPORT_FIELDS = ("seq", "time", "actor", "action", "target_type", "target", "before",
                 "after", "prev_hash", "hash")


def _plain(value: Any) -> Any:
    """``value`` as JSON-native data (numpy scalars, tuples, ... normalized)."""
    if value is None:
        return None
    return orjson.loads(codec_dumps(value))


_BUMP_HEAD = 'UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, "hash"'
_INSERT_EVENT = ('INSERT INTO audit_events (seq, "time", actor, "action", target_type, target, '
                 '"before", "after", prev_hash, "hash") VALUES ({marks})')
_SET_HEAD_HASH = 'UPDATE audit_head SET "hash" = {mark} WHERE id = 1'


def _text(value: Any) -> str | None:
    """How a JSON column stores ``value`` (SQL NULL for None)."""
    return None if value is None else orjson.dumps(value).decode()


def event_hash(prev_hash: str, time: int, actor: str, action: str,
               target_type: str, target: str, before: Any, after: Any) -> str:
    """sha256 of the event's canonical JSON (sorted keys) with the previous hash.

    The sequence number is left out on purpose: order is carried by ``prev_hash``, so
    moving an event shows as a broken link (reordered), changing it as a bad hash."""
    body = orjson.dumps({"prev": prev_hash, "time": time, "actor": actor,
                         "action": action, "target_type": target_type, "target": target,
                         "before": before, "after": after}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


@dataclass
class AuditEvent:
    """One recorded change."""

    seq: int
    time: int
    actor: str
    action: str
    target_type: str
    target: str
    before: Any
    after: Any
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form (REST, export)."""
        return asdict(self)


@dataclass
class ChainProblem:
    """Where the chain breaks and how."""

    seq: int
    kind: str  # edited | deleted | reordered | truncated
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verification:
    """The result of :meth:`AuditLog.verify`."""

    ok: bool
    events: int
    head: dict[str, Any]
    problems: list[ChainProblem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "head": self.head,
                "problems": [p.to_dict() for p in self.problems]}

    def __str__(self) -> str:
        if self.ok:
            return (f"audit chain verified: {self.events} events, head #{self.head['seq']} "
                    f"{self.head['hash'][:12]}")
        lines = [f"audit chain BROKEN ({len(self.problems)} problem(s) in "
                 f"{self.events} events):"]
        lines += [f"  #{p.seq} {p.kind}: {p.message}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class AuditFilter:
    """Which events a query returns (all fields optional)."""

    actor: str | None = None
    action: str | None = None  # prefix: "alias" matches alias.set and alias.delete
    target_type: str | None = None
    target: str | None = None  # prefix: "cancer" matches cancer/1, cancer/2
    since: int | None = None
    until: int | None = None

    def where(self) -> list[Any]:
        c = s.audit_events.c
        clauses: list[Any] = []
        if self.actor:
            clauses.append(c.actor == self.actor)
        if self.action:
            clauses.append(c.action.startswith(self.action, autoescape=True))
        if self.target_type:
            clauses.append(c.target_type == self.target_type)
        if self.target:
            clauses.append(c.target.startswith(self.target, autoescape=True))
        if self.since is not None:
            clauses.append(c.time >= int(self.since))
        if self.until is not None:
            clauses.append(c.time <= int(self.until))
        return clauses


class AuditLog:
    """Appends, queries, verifies and exports the audit trail of one store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, conn: Connection, actor: str, action: str, target_type: str,
               target: str, before: Mapping[str, Any] | Any = None,
               after: Mapping[str, Any] | Any = None, *, time: int | None = None) -> int:
        """Record one change inside the caller's write transaction; returns its seq."""
        from ..tracking.service import now_ms

        # Driver-level SQL: an append runs in every governed write, and building the
        # statements through SQLAlchemy cost more than executing them. Touching the head
        # row first takes the row lock (PostgreSQL) or finds the write lock (SQLite)
        # that orders concurrent appenders.
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        row = conn.exec_driver_sql(_BUMP_HEAD).one()
        seq, prev = int(row[0]), str(row[1])
        when = now_ms() if time is None else int(time)
        before_, after_ = _plain(before), _plain(after)
        digest = event_hash(prev, when, actor, action, target_type, str(target),
                            before_, after_)
        conn.exec_driver_sql(
            _INSERT_EVENT.format(marks=", ".join([mark] * 10)),
            (seq, when, actor, action, target_type, str(target), _text(before_),
             _text(after_), prev, digest))
        conn.exec_driver_sql(_SET_HEAD_HASH.format(mark=mark), (digest,))
        return seq

    # ---------------------------------------------------------------- reading
    def events(self, flt: AuditFilter | None = None, *, limit: int = 100,
               before: int | None = None) -> tuple[list[AuditEvent], int | None]:
        """Events newest first, ``limit`` of them below ``before``; and the ``before``
        of the next page (None at the end)."""
        if not 1 <= limit <= 10_000:
            raise InvalidInput("limit must be between 1 and 10000", field="limit")
        c = s.audit_events.c
        query = select(s.audit_events).where(*(flt or AuditFilter()).where())
        if before is not None:
            query = query.where(c.seq < int(before))
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(c.seq.desc()).limit(limit + 1)).all()
        events = [AuditEvent(**row._mapping) for row in rows[:limit]]
        return events, (events[-1].seq if len(rows) > limit else None)

    def iter_events(self, flt: AuditFilter | None = None, *, chunk: int = 5000
                    ) -> Iterator[AuditEvent]:
        """Every matching event, oldest first, read in chunks."""
        c = s.audit_events.c
        after = 0
        while True:
            with self.db.read() as conn:
                rows = conn.execute(select(s.audit_events)
                                    .where(c.seq > after, *(flt or AuditFilter()).where())
                                    .order_by(c.seq).limit(chunk)).all()
            for row in rows:
                yield AuditEvent(**row._mapping)
            if len(rows) < chunk:
                return
            after = rows[-1].seq

    def export(self, fmt: str, flt: AuditFilter | None = None) -> bytes:
        """The matching events as CSV (before/after as JSON text) or a JSON array."""
        events = [e.to_dict() for e in self.iter_events(flt)]
        if fmt == "json":
            return orjson.dumps(events, option=orjson.OPT_INDENT_2)
        if fmt != "csv":
            raise InvalidInput(f"format must be csv or json, not {fmt!r}", field="format")
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for event in events:
            for key in ("before", "after"):
                if event[key] is not None:
                    event[key] = orjson.dumps(event[key], option=orjson.OPT_SORT_KEYS
                                              ).decode()
            writer.writerow(event)
        return out.getvalue().encode()

    # ---------------------------------------------------------------- verification
    def verify(self) -> Verification:
        """Recompute the whole chain; every break is reported with its seq and kind."""
        problems: list[ChainProblem] = []
        expected_seq, prev_hash, count, last_seq = 1, GENESIS, 0, 0
        for event in self.iter_events():
            count += 1
            if event.seq != expected_seq:
                problems.append(ChainProblem(
                    expected_seq, "deleted",
                    f"events #{expected_seq}..#{event.seq - 1} are missing"
                    if event.seq > expected_seq else f"#{event.seq} is out of sequence"))
            recomputed = event_hash(event.prev_hash, event.time, event.actor,
                                    event.action, event.target_type, event.target,
                                    event.before, event.after)
            if recomputed != event.hash:
                problems.append(ChainProblem(
                    event.seq, "edited",
                    f"#{event.seq} ({event.action} {event.target} by {event.actor}) was "
                    "changed after it was recorded: its content no longer matches its "
                    "hash"))
            elif event.prev_hash != prev_hash and event.seq == expected_seq:
                problems.append(ChainProblem(
                    event.seq, "reordered",
                    f"#{event.seq} does not follow the event before it (its prev_hash "
                    f"{event.prev_hash[:12]} is not {prev_hash[:12]}): events were moved, "
                    "or one was removed and the rest renumbered"))
            prev_hash, expected_seq, last_seq = event.hash, event.seq + 1, event.seq
        with self.db.read() as conn:
            head = conn.execute(select(s.audit_head.c.seq, s.audit_head.c.hash)
                                .where(s.audit_head.c.id == 1)).one()
        if int(head.seq) != last_seq or (last_seq and head.hash != prev_hash):
            problems.append(ChainProblem(
                last_seq + 1 if int(head.seq) > last_seq else int(head.seq), "truncated",
                f"the chain head is #{head.seq} {str(head.hash)[:12]} but the last event is "
                f"#{last_seq} {prev_hash[:12]}: events at the end were removed or the "
                "head was altered"))
        return Verification(not problems, count, {"seq": int(head.seq), "hash": head.hash},
                            problems)
