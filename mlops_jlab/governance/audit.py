"""The audit trail: append-only events chained with a keyed MAC.

Every mutating service call appends one event *in the transaction of the change*, so
an event exists exactly when its change was committed. Each event stores the MAC of
the one before; ``audit_head`` holds the newest sequence number and MAC. Appending
updates that row first, which serializes appenders (SQLite's write lock, PostgreSQL's
row lock) so the chain stays linear under concurrent writers.

An event's MAC is HMAC-SHA256, under the audit key, of its canonical JSON with the
previous MAC; ``key_id`` names the key (:mod:`.audit_keys`: the key lives in a file
outside the database, so rewriting the chain takes more than database access).
Events recorded before keyed MACs (``key_id`` NULL) carry a plain sha256 and stay
verifiable as *legacy* events. Signed anchors of the head written elsewhere
(:mod:`.anchors`) catch a chain cut back or rewritten behind them.

:meth:`AuditLog.verify` recomputes the chain and names every break: an *edited* event
(its stored MAC no longer matches its content), a *deleted* one (a gap in the
sequence), *reordered* events (a stored ``prev_hash`` that is not the previous
event's MAC), a *truncated* tail (the head points past the last event, or is behind an
anchor), a *rewritten* stretch (MACs that do not verify with the key, or that differ
from an anchor), *downgraded* events (plain sha256 after keyed ones), events MACed
with a retired key (*stale_key*), and forged or missing anchors. See docs/audit.md.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, or_, select
from sqlalchemy.exc import NoResultFound

from ..errors import InvalidInput, RuleViolation
from ..store import schema as s
from ..store.codec import dumps as codec_dumps
from ..store.db import Database
from .audit_keys import KEY_BYTES, KeyFile, Keyring, key_id

if TYPE_CHECKING:
    from .anchors import AnchorResult

GENESIS = "0" * 64
EXPORT_FIELDS = ("seq", "time", "actor", "action", "target_type", "target", "before",
                 "after", "prev_hash", "hash", "key_id")
KEY_ROTATE = "audit.key_rotate"
ANCHOR = "audit.anchor"


def _plain(value: Any) -> Any:
    """``value`` as JSON-native data (numpy scalars, tuples, ... normalized)."""
    if value is None:
        return None
    return orjson.loads(codec_dumps(value))


_BUMP_HEAD = 'UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, "hash"'
_INSERT_EVENT = ('INSERT INTO audit_events (seq, "time", actor, "action", target_type, target, '
                 '"before", "after", prev_hash, "hash", key_id) VALUES ({marks})')
_SET_HEAD_HASH = 'UPDATE audit_head SET "hash" = {mark} WHERE id = 1'
_LOCK_HEAD = "UPDATE audit_head SET seq = seq WHERE id = 1"


def _text(value: Any) -> str | None:
    """How a JSON column stores ``value`` (SQL NULL for None)."""
    return None if value is None else orjson.dumps(value).decode()


def event_body(prev_hash: str, time: int, actor: str, action: str,
               target_type: str, target: str, before: Any, after: Any) -> bytes:
    """The event's canonical JSON (sorted keys) with the previous MAC: what is MACed.

    The sequence number is left out on purpose: order is carried by ``prev_hash``, so
    moving an event shows as a broken link (reordered), changing it as a bad MAC."""
    return orjson.dumps({"prev": prev_hash, "time": time, "actor": actor,
                         "action": action, "target_type": target_type, "target": target,
                         "before": before, "after": after}, option=orjson.OPT_SORT_KEYS)


def event_hash(prev_hash: str, time: int, actor: str, action: str,
               target_type: str, target: str, before: Any, after: Any) -> str:
    """Plain sha256 of :func:`event_body`: how legacy events (before keyed MACs, with
    ``key_id`` NULL) were chained; verification only."""
    return hashlib.sha256(event_body(prev_hash, time, actor, action, target_type, target,
                                     before, after)).hexdigest()


def event_mac(key: bytes, prev_hash: str, time: int, actor: str, action: str,
              target_type: str, target: str, before: Any, after: Any) -> str:
    """HMAC-SHA256 of :func:`event_body` under ``key``: how events are chained."""
    return hmac.digest(key, event_body(prev_hash, time, actor, action, target_type, target,
                                       before, after), "sha256").hex()


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
    key_id: str | None = None
    """Id of the audit key that MACed it; None: a legacy plain-sha256 event."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form (REST, export)."""
        return asdict(self)


@dataclass
class ChainProblem:
    """Where the chain breaks and how."""

    seq: int
    # edited | deleted | reordered | truncated | rewritten | downgraded | stale_key |
    # forged_anchor | missing_anchor | unreadable
    kind: str
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
    legacy: int = 0
    """Events chained with plain sha256 before keyed MACs (not protected by the key)."""
    key_ids: list[str] = field(default_factory=list)
    """Ids of the audit keys that MACed the events, in order of first use."""
    anchors: dict[str, Any] | None = None
    """``{"location", "count", "latest"}`` of the anchors checked (None: none were)."""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "head": self.head,
                "problems": [p.to_dict() for p in self.problems], "legacy": self.legacy,
                "key_ids": list(self.key_ids), "anchors": self.anchors}

    def summary(self) -> str:
        """What was checked, in one line (keys, legacy events, anchors)."""
        parts = [f"{self.events} events"]
        keyed = self.events - self.legacy
        if keyed:
            keys = "key" if len(self.key_ids) == 1 else "keys"
            parts.append(f"{keyed} HMAC-SHA256 ({keys} {', '.join(self.key_ids)})")
        if self.legacy:
            parts.append(f"{self.legacy} legacy sha256 from before keyed MACs (not "
                         "protected by the key)")
        head = (f"#{self.head['seq']} {self.head['hash'][:12]}" if self.head.get("hash")
                else "unreadable")
        text = ", ".join(parts) + f"; head {head}"
        if self.anchors is None:
            return text + "; no anchors checked"
        latest = self.anchors.get("latest")
        return text + (f"; {self.anchors['count']} anchor(s) in {self.anchors['location']}"
                       + (f", the newest at #{latest['seq']}" if latest else ""))

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain verified: {self.summary()}"
        lines = [f"audit chain BROKEN ({len(self.problems)} problem(s) in "
                 f"{self.events} events):"]
        lines += [f"  #{p.seq} {p.kind}: {p.message}" for p in self.problems]
        lines.append(f"checked: {self.summary()}")
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
    #: experiments (ids) and models (names) whose events the reader may not see: their
    #: own events, their runs', versions' and deployments' are left out
    hidden_experiments: frozenset[str] = frozenset()
    hidden_models: frozenset[str] = frozenset()

    def where(self) -> list[Any]:
        c = s.audit_events.c
        clauses: list[Any] = self._visible()
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

    def _visible(self) -> list[Any]:
        c = s.audit_events.c
        out: list[Any] = []
        if self.hidden_experiments:
            exps = sorted(self.hidden_experiments)
            out.append(~((c.target_type == "experiment") & c.target.in_(exps)))
            out.append(~((c.target_type == "run") & c.target.in_(
                select(s.runs.c.id).where(s.runs.c.experiment_id.in_(exps)))))
        if self.hidden_models:
            models = sorted(self.hidden_models)
            version_of_hidden = or_(*(c.target.startswith(f"{m}/", autoescape=True)
                                      for m in models))
            out.append(~((c.target_type == "model") & (c.target.in_(models) |
                                                       version_of_hidden)))
            out.append(~((c.target_type == "deployment") & c.target.in_(
                select(s.deployments.c.name).where(s.deployments.c.model.in_(models)))))
        return out


AuditKey = KeyFile | Keyring | bytes | str | os.PathLike[str]


class AuditLog:
    """Appends, queries, verifies and exports the audit trail of one store.

    ``key`` is where the audit key comes from: a key file (path or :class:`KeyFile`,
    created on first use), or a :class:`Keyring`/raw key held in memory; None: the
    configured key file (``MLOPS_JLAB_AUDIT_KEY_FILE``, default
    ``$MLOPS_JLAB_HOME/audit.key``). ``anchors`` is the default anchor location of
    :meth:`anchor` and :meth:`verify` (None: no default)."""

    def __init__(self, db: Database, key: AuditKey | None = None, *,
                 anchors: str | None = None) -> None:
        self.db = db
        self.key_file: KeyFile | None = None
        self._keyring: Keyring | None = None
        if key is None:
            from ..config import resolve

            settings = resolve()
            key = settings.audit_key_file or settings.home / "audit.key"
        if isinstance(key, Keyring):
            self._keyring = key
        elif isinstance(key, bytes):
            self._keyring = Keyring((key,))
        elif isinstance(key, KeyFile):
            self.key_file = key
        else:
            self.key_file = KeyFile(key)
        self.anchors = anchors

    def keyring(self, *, create: bool = True) -> Keyring | None:
        """The audit keys (current last); None when the key file is missing and not
        ``create``."""
        if self.key_file is None:
            return self._keyring
        return self.key_file.keyring(create=create)

    def _keys(self) -> Keyring:
        keyring = self.keyring()
        if keyring is None:  # pragma: no cover - keyring(create=True) creates the file
            raise InvalidInput("no audit key")
        return keyring

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
        # read the keys holding the lock: a rotation committed before is seen (one stat)
        keyring = self._keys()
        when = now_ms() if time is None else int(time)
        before_, after_ = _plain(before), _plain(after)
        digest = event_mac(keyring.current, prev, when, actor, action, target_type,
                           str(target), before_, after_)
        conn.exec_driver_sql(
            _INSERT_EVENT.format(marks=", ".join([mark] * 11)),
            (seq, when, actor, action, target_type, str(target), _text(before_),
             _text(after_), prev, digest, keyring.current_id))
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
    def head(self) -> dict[str, Any]:
        """``{"seq", "hash"}`` of the newest event (seq 0: the chain is empty)."""
        with self.db.read() as conn:
            row = conn.execute(select(s.audit_head.c.seq, s.audit_head.c.hash)
                               .where(s.audit_head.c.id == 1)).one()
        return {"seq": int(row.seq), "hash": str(row.hash)}

    def verify(self, anchors: str | None = None) -> Verification:
        """Recompute the whole chain with the audit key; every break is reported with
        its seq and kind. Anchors are checked at ``anchors`` (a folder or fsspec URL),
        else at this log's default location when it exists."""
        from .audit_verify import verify_chain

        location = anchors if anchors is not None else self.anchors
        try:
            return verify_chain(self, location, explicit=anchors is not None)
        except (ValueError, TypeError, KeyError, NoResultFound) as exc:
            # rows that do not even parse (a JSON column edited into garbage, the head
            # row deleted): that is tampering too, reported like the rest
            return Verification(False, 0, {"seq": None, "hash": None}, [ChainProblem(
                0, "unreadable", f"the audit tables cannot be read as a chain "
                                 f"({type(exc).__name__}: {str(exc)[:200]}): rows were "
                                 "edited or removed outside mlops_jlab")])

    # ---------------------------------------------------------------- keys and anchors
    def rotate_key(self, conn: Connection, actor: str) -> dict[str, Any]:
        """Switch to a fresh audit key inside the caller's write transaction.

        Records ``audit.key_rotate`` (MACed with the old key; its ``after`` names the
        new key's id, never the key), then adds the new key to the key file as the
        current one. The old keys stay in the file: they verify the older events."""
        if self.key_file is None:
            raise InvalidInput("this audit log holds its key in memory; rotating the "
                               "key takes a key file", field="key")
        conn.exec_driver_sql(_LOCK_HEAD)  # one rotation (and no append) at a time
        old = self._keys()
        new = secrets.token_bytes(KEY_BYTES)
        seq = self.append(conn, actor, KEY_ROTATE, "audit", "audit.key",
                          {"key_id": old.current_id},
                          {"key_id": key_id(new), "keys": len(old.keys) + 1})
        self.key_file.replace(old.with_key(new))
        return {"seq": seq, "previous_key_id": old.current_id, "key_id": key_id(new),
                "key_file": str(self.key_file.path)}

    def anchor(self, actor: str, location: str | None = None, *, webhook: str | None = None,
               only_if_moved: bool = False) -> AnchorResult | None:
        """Write a signed anchor of the chain head to ``location`` (default: this log's
        anchor location), POST it to ``webhook`` if given, and record an
        ``audit.anchor`` event. None when the chain is empty, or when ``only_if_moved``
        and nothing but anchors was recorded since the last anchor there.

        :class:`RuleViolation` when the head does not verify (an anchor must not vouch
        for a broken chain)."""
        from ..monitoring.webhooks import deliver
        from ..tracking.service import now_ms
        from .anchors import Anchor, AnchorResult, AnchorStore
        from .audit_verify import check_event

        where = location or self.anchors
        if not where:
            raise InvalidInput("no anchor location: give a folder or fsspec URL",
                               field="location")
        store = AnchorStore(where)
        keyring = self._keys()
        with self.db.read() as conn:
            head = conn.execute(select(s.audit_head.c.seq, s.audit_head.c.hash)
                                .where(s.audit_head.c.id == 1)).one()
            if int(head.seq) == 0 or (only_if_moved and
                                      not _moved_since_anchor(conn, store.label)):
                return None
            row = conn.execute(select(s.audit_events)
                               .where(s.audit_events.c.seq == head.seq)).first()
        last = None if row is None else AuditEvent(**row._mapping)
        problem = ("it names a missing event" if last is None
                   else "it is not the last event's MAC" if last.hash != head.hash
                   else check_event(last, keyring, "the key file"))
        if problem:
            raise RuleViolation(f"not anchoring the audit head #{head.seq}: {problem}; "
                                "run mlops-jlab audit verify")
        anchor = Anchor.sign(keyring, int(head.seq), str(head.hash), now_ms())
        name = store.write(anchor)
        delivery = None if not webhook else deliver(webhook, {
            "kind": "mlops-jlab.audit.anchor", "anchor": anchor.to_dict(), "file": name,
            "location": store.label})
        with self.db.write() as conn:
            seq = self.append(conn, actor, ANCHOR, "audit", name, None, {
                "seq": anchor.seq, "mac": anchor.mac, "key_id": anchor.key_id,
                "location": store.label, "file": name,
                "webhook": None if delivery is None else bool(delivery.get("ok"))},
                time=anchor.time)
        return AnchorResult(anchor, store.label, name, seq, delivery)


def _moved_since_anchor(conn: Connection, label: str) -> bool:
    """Whether an event other than an anchor was recorded after the newest anchor of
    ``label``."""
    c = s.audit_events.c
    anchored: int | None = None
    for row in conn.execute(select(c.seq, c.after).where(c.action == ANCHOR)
                            .order_by(c.seq.desc()).limit(100)):
        after = row.after if isinstance(row.after, dict) else {}
        if after.get("location") == label:
            anchored = int(after.get("seq") or 0)
            break
    if anchored is None:
        return True
    newest = conn.execute(select(c.seq).where(c.action != ANCHOR)
                          .order_by(c.seq.desc()).limit(1)).scalar()
    return newest is not None and int(newest) > anchored
