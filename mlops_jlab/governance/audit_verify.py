"""Verification of the audit chain (:meth:`AuditLog.verify`): every event's MAC and
link, the head, the order of keys, and the anchors of one location.

The walk stops at the head as it was when verification began (events appended while
it runs are left for the next verification); the anchors are read before that head,
so an anchor written meanwhile cannot look like a chain cut behind it. Consecutive
events with the same fault are reported as one problem (a chain rewritten from #n on
is one "rewritten" problem, not one per event).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ..store import schema as s
from .anchors import Anchor, AnchorStore
from .audit import (
    ANCHOR,
    GENESIS,
    KEY_ROTATE,
    AuditEvent,
    ChainProblem,
    Verification,
    event_hash,
    event_mac,
)
from .audit_keys import Keyring

if TYPE_CHECKING:
    from .audit import AuditLog


def _when(time_ms: int) -> str:
    return datetime.fromtimestamp(time_ms / 1000, tz=timezone.utc).isoformat(
        timespec="seconds").replace("+00:00", "Z")


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}..#{last}"


def check_event(event: AuditEvent, keyring: Keyring | None, key_name: str) -> str | None:
    """Why ``event``'s stored MAC (or legacy sha256) is not valid; None when it is."""
    args = (event.prev_hash, event.time, event.actor, event.action, event.target_type,
            event.target, event.before, event.after)
    if event.key_id is None:
        if hmac.compare_digest(event_hash(*args), event.hash):
            return None
        return "its content no longer matches its sha256"
    if keyring is None:
        return f"there is no audit key file ({key_name}) to check its MAC"
    key = keyring.get(event.key_id)
    if key is None:
        return f"it names key {event.key_id}, which {key_name} does not hold"
    if hmac.compare_digest(event_mac(key, *args), event.hash):
        return None
    return "its MAC does not verify with the audit key"


@dataclass
class _Stretch:
    """Consecutive events with the same fault."""

    kind: str
    first: AuditEvent
    last: AuditEvent
    detail: str
    count: int = 1


@dataclass
class _Walk:
    """State of one walk along the chain."""

    keyring: Keyring | None
    key_name: str
    wanted: set[int]
    problems: list[ChainProblem] = field(default_factory=list)
    expected_seq: int = 1
    prev_hash: str = GENESIS
    count: int = 0
    last_seq: int = 0
    legacy: int = 0
    key_ids: list[str] = field(default_factory=list)
    keyed_seen: bool = False
    floor: int = -1  # rank of the newest key in use: older ones are retired
    floor_seq: int = 0
    stretch: _Stretch | None = None
    anchored: dict[int, str] = field(default_factory=dict)
    anchor_events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def step(self, event: AuditEvent) -> None:
        self.count += 1
        if event.seq != self.expected_seq:
            self.problems.append(ChainProblem(
                self.expected_seq, "deleted",
                (f"event #{self.expected_seq} is missing"
                 if event.seq == self.expected_seq + 1 else
                 f"events {_span(self.expected_seq, event.seq - 1)} are missing")
                if event.seq > self.expected_seq else f"#{event.seq} is out of sequence"))
        reason = check_event(event, self.keyring, self.key_name)
        fault: tuple[str, str] | None = None
        if event.key_id is None:
            self.legacy += 1
        if reason is not None:
            fault = ("invalid", reason)
        elif event.key_id is None:
            if self.keyed_seen:
                fault = ("downgraded", "")
        else:
            self.keyed_seen = True
            if event.key_id not in self.key_ids:
                self.key_ids.append(event.key_id)
            fault = self._key_order(event)
            if event.action == KEY_ROTATE and isinstance(event.after, dict):
                self._raise_floor(str(event.after.get("key_id")), event.seq)
        if reason is None and event.action == ANCHOR and isinstance(event.after, dict):
            self.anchor_events.append((event.seq, event.after))
        self._stretch(event, fault)
        if reason is None and event.prev_hash != self.prev_hash and \
                event.seq == self.expected_seq:
            self.problems.append(ChainProblem(
                event.seq, "reordered",
                f"#{event.seq} does not follow the event before it (its prev_hash "
                f"{event.prev_hash[:12]} is not {self.prev_hash[:12]}): events were moved, "
                "or one was removed and the rest renumbered"))
        if event.seq in self.wanted:
            self.anchored[event.seq] = event.hash
        self.prev_hash, self.expected_seq, self.last_seq = event.hash, event.seq + 1, \
            event.seq

    def _key_order(self, event: AuditEvent) -> tuple[str, str] | None:
        assert self.keyring is not None and event.key_id is not None  # MAC verified
        rank = self.keyring.rank(event.key_id)
        if rank < self.floor:
            return ("stale_key", f"key {event.key_id} was retired at #{self.floor_seq} "
                                 f"(by key {self.keyring.ids[self.floor]})")
        self._raise_floor(event.key_id, event.seq)
        return None

    def _raise_floor(self, kid: str, seq: int) -> None:
        rank = self.keyring.rank(kid) if self.keyring is not None else -1
        if rank > self.floor:
            self.floor, self.floor_seq = rank, seq

    def _stretch(self, event: AuditEvent, fault: tuple[str, str] | None) -> None:
        current = self.stretch
        if fault is not None and current is not None and current.kind == fault[0]:
            current.last, current.count = event, current.count + 1
            return
        self.flush()
        if fault is not None:
            self.stretch = _Stretch(fault[0], event, event, fault[1])

    def flush(self) -> None:
        stretch, self.stretch = self.stretch, None
        if stretch is None:
            return
        first, last = stretch.first, stretch.last
        span = _span(first.seq, last.seq)
        if stretch.kind == "invalid" and stretch.count == 1:
            self.problems.append(ChainProblem(
                first.seq, "edited",
                f"#{first.seq} ({first.action} {first.target} by {first.actor}) was "
                f"changed after it was recorded: {stretch.detail}"))
        elif stretch.kind == "invalid":
            self.problems.append(ChainProblem(
                first.seq, "rewritten",
                f"{stretch.count} events {span} do not verify ({stretch.detail}): the "
                f"chain was rewritten from #{first.seq} on and re-chained without the "
                "audit key (or each of them was edited)"))
        elif stretch.kind == "downgraded":
            self.problems.append(ChainProblem(
                first.seq, "downgraded",
                f"{stretch.count} events {span} are chained with plain sha256 (no key id) "
                "after keyed events: they were rewritten without the audit key"))
        else:
            self.problems.append(ChainProblem(
                first.seq, "stale_key",
                f"{stretch.count} events {span} are MACed with a retired key: "
                f"{stretch.detail}. They were written after the rotation by a process "
                "still holding the old key file, or forged with a leaked old key"))


def verify_chain(log: AuditLog, location: str | None, *, explicit: bool) -> Verification:
    """Verify ``log``'s chain, and the anchors at ``location`` (when it exists, or
    always when ``explicit``)."""
    keyring = log.keyring(create=False)
    key_name = str(log.key_file.path) if log.key_file is not None else "the audit key"
    problems: list[ChainProblem] = []
    store = AnchorStore(location) if location is not None else None
    checked = store is not None and (explicit or store.exists())
    anchors: list[tuple[str, Anchor]] = []
    present: set[str] = set()
    if store is not None and checked:
        stored = store.read()
        present = {item.name for item in stored}
        for item in stored:
            reason = item.problem or (item.anchor.check(keyring) if item.anchor else None)
            if reason is None and item.anchor is not None:
                anchors.append((item.name, item.anchor))
            else:
                problems.append(ChainProblem(
                    item.anchor.seq if item.anchor else 0, "forged_anchor",
                    f"anchor {item.name} in {store.label} is not valid: {reason}; it was "
                    "forged or altered"))
        if not stored:
            problems.append(ChainProblem(
                0, "missing_anchor",
                f"{store.label} holds no anchors"
                + ("" if store.exists() else " (it does not exist)")
                + ": they were deleted, or none was ever written there"))
    with log.db.read() as conn:
        head = conn.execute(select(s.audit_head.c.seq, s.audit_head.c.hash)
                            .where(s.audit_head.c.id == 1)).one()
    head_seq, head_hash = int(head.seq), str(head.hash)
    walk = _Walk(keyring, key_name, {a.seq for _, a in anchors})
    for event in log.iter_events():
        if event.seq > head_seq:  # appended after verification began
            break
        walk.step(event)
    walk.flush()
    problems += walk.problems
    last_seq, prev_hash = walk.last_seq, walk.prev_hash
    if head_seq != last_seq or (last_seq and head_hash != prev_hash):
        problems.append(ChainProblem(
            last_seq + 1 if head_seq > last_seq else head_seq, "truncated",
            f"the chain head is #{head_seq} {head_hash[:12]} but the last event is "
            f"#{last_seq} {prev_hash[:12]}: events at the end were removed or the "
            "head was altered"))
    problems += _beyond_head(log)
    problems += _anchor_problems(anchors, walk, last_seq)
    info: dict[str, Any] | None = None
    if store is not None:
        problems += _missing_anchors(store, checked, present, walk.anchor_events)
        if checked:
            newest = max(anchors, key=lambda item: (item[1].seq, item[1].time),
                         default=None)
            info = {"location": store.label, "count": len(anchors), "latest": None
                    if newest is None else {"seq": newest[1].seq, "time": newest[1].time,
                                            "file": newest[0]}}
    problems.sort(key=lambda p: p.seq)
    return Verification(not problems, walk.count, {"seq": head_seq, "hash": head_hash},
                        problems, legacy=walk.legacy, key_ids=walk.key_ids, anchors=info)


def _beyond_head(log: AuditLog) -> list[ChainProblem]:
    """Events past the head, in one snapshot (a single statement: an append moves the
    head in the transaction that adds the event, so a sound chain has none)."""
    head = select(s.audit_head.c.seq).where(s.audit_head.c.id == 1).scalar_subquery()
    newest = select(func.max(s.audit_events.c.seq)).scalar_subquery()
    with log.db.read() as conn:
        row = conn.execute(select(head, newest)).one()
    head_seq, newest_seq = int(row[0] or 0), row[1]
    if newest_seq is None or int(newest_seq) <= head_seq:
        return []
    return [ChainProblem(
        head_seq + 1, "truncated",
        f"events up to #{newest_seq} lie beyond the chain head #{head_seq}: they were "
        "added without going through the chain, or the head was moved back")]


def _anchor_problems(anchors: list[tuple[str, Anchor]], walk: _Walk, last_seq: int
                     ) -> list[ChainProblem]:
    """Anchors the chain no longer agrees with: cut behind one, or rewritten below."""
    out: list[ChainProblem] = []
    beyond = sorted((a for a in anchors if a[1].seq > last_seq), key=lambda a: a[1].seq)
    if beyond:
        name, anchor = beyond[-1]
        more = f"; {len(beyond) - 1} older anchor(s) also lie beyond it" \
            if len(beyond) > 1 else ""
        out.append(ChainProblem(
            last_seq + 1, "truncated",
            f"the chain ends at #{last_seq} but anchor {name} (written "
            f"{_when(anchor.time)}) holds #{anchor.seq}: events "
            f"{_span(last_seq + 1, anchor.seq)} at least were removed and the head moved "
            f"back{more}"))
    differ = sorted((a for a in anchors if a[1].seq in walk.anchored
                     and not hmac.compare_digest(walk.anchored[a[1].seq], a[1].mac)),
                    key=lambda a: a[1].seq)
    if differ:
        name, anchor = differ[0]
        more = f"; {len(differ) - 1} later anchor(s) disagree too" if len(differ) > 1 else ""
        out.append(ChainProblem(
            anchor.seq, "rewritten",
            f"#{anchor.seq}'s MAC {walk.anchored[anchor.seq][:12]} is not the "
            f"{anchor.mac[:12]} that anchor {name} recorded {_when(anchor.time)}: the chain "
            f"was rewritten at or before #{anchor.seq} after it was anchored{more}"))
    return out


def _missing_anchors(store: AnchorStore, checked: bool, present: set[str],
                     recorded: list[tuple[int, dict[str, Any]]]) -> list[ChainProblem]:
    """Anchors the chain says were written to ``store`` that are not there."""
    gone = [(seq, after) for seq, after in recorded
            if after.get("location") == store.label and after.get("file") not in present]
    if not gone:
        return []
    names = ", ".join(str(after.get("file")) for _, after in gone[:3])
    names += f" and {len(gone) - 3} more" if len(gone) > 3 else ""
    where = store.label if checked else f"{store.label} (which does not exist)"
    return [ChainProblem(
        int(gone[0][1].get("seq") or gone[0][0]), "missing_anchor",
        f"{len(gone)} anchor(s) recorded in the chain (#{gone[0][0]} on) are gone from "
        f"{where}: {names}; anchors were deleted")]
