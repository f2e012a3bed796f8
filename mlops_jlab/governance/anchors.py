"""Anchors: signed checkpoints of the audit chain's head, kept outside the database.

An anchor records ``{seq, mac, time, key_id}`` of the chain head, with ``signature``:
HMAC-SHA256 of those fields under the audit key ``key_id`` names. Each anchor is its
own file, ``anchor-<seq>-<UTC time>.json``, in a local folder or under any fsspec URL,
created exclusively: anchors accumulate, none is ever overwritten. Optionally each is
also POSTed to a webhook (through the SSRF-checked delivery of alert webhooks).

Anchors make the chain's past checkable against something an attacker with database
access alone cannot rewrite: a chain cut behind an anchor, or rewritten below one,
no longer holds the anchored MAC at the anchored seq (see
:meth:`~mlops_jlab.governance.audit.AuditLog.verify`). :class:`AnchorLoop` writes one
on a schedule when the head moved.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from ..errors import ConfigurationError
from ..store.leading import LeaderLoop
from .audit_keys import Keyring

VERSION = 1
AUDITOR = "mlops:audit"
"""The actor of anchors written on a schedule by the server."""
MAX_ANCHOR_BYTES = 64 * 1024
_NAME = re.compile(r"^anchor-(\d{12})-(\d{8}T\d{9}Z)(?:-\d+)?\.json$")
_DOMAIN = b"mlops-jlab audit anchor v1\n"


def _stamp(time_ms: int) -> str:
    """UTC ``YYYYmmddTHHMMSSmmmZ`` of a time in milliseconds."""
    return _time.strftime("%Y%m%dT%H%M%S", _time.gmtime(time_ms // 1000)) + \
        f"{time_ms % 1000:03d}Z"


@dataclass(frozen=True)
class Anchor:
    """One signed checkpoint of the chain head."""

    seq: int
    mac: str
    time: int
    key_id: str
    signature: str

    @staticmethod
    def signed_body(seq: int, mac: str, time: int, key_id: str) -> bytes:
        """The bytes the signature covers (domain-separated from event MACs)."""
        return _DOMAIN + orjson.dumps({"version": VERSION, "seq": seq, "mac": mac,
                                       "time": time, "key_id": key_id},
                                      option=orjson.OPT_SORT_KEYS)

    @classmethod
    def sign(cls, keyring: Keyring, seq: int, mac: str, time: int) -> Anchor:
        """An anchor of ``(seq, mac)`` signed with the current key."""
        body = cls.signed_body(seq, mac, time, keyring.current_id)
        return cls(seq, mac, time, keyring.current_id,
                   hmac.digest(keyring.current, body, hashlib.sha256).hex())

    def check(self, keyring: Keyring | None) -> str | None:
        """Why the signature is not valid under ``keyring`` (None when it is)."""
        if keyring is None:
            return "its signature cannot be checked: there is no audit key file"
        key = keyring.get(self.key_id)
        if key is None:
            return (f"it claims key {self.key_id}, which the audit key file does not "
                    "hold")
        expected = hmac.digest(key, self.signed_body(self.seq, self.mac, self.time,
                                                     self.key_id), hashlib.sha256).hex()
        if not hmac.compare_digest(expected, self.signature):
            return "its signature does not verify with the audit key"
        return None

    @property
    def file_name(self) -> str:
        """Its file name: sequence number, then UTC time."""
        return f"anchor-{self.seq:012d}-{_stamp(self.time)}.json"

    def to_dict(self) -> dict[str, Any]:
        """What the anchor file holds (and the webhook receives)."""
        return {"version": VERSION, "seq": self.seq, "mac": self.mac, "time": self.time,
                "key_id": self.key_id, "signature": self.signature}

    @classmethod
    def from_bytes(cls, data: bytes) -> Anchor:
        """Parse an anchor file; ValueError says why it is not one."""
        if len(data) > MAX_ANCHOR_BYTES:
            raise ValueError("it is too large to be an anchor")
        try:
            raw = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise ValueError("it is not JSON") from None
        if not isinstance(raw, dict) or raw.get("version") != VERSION:
            raise ValueError(f"it is not a version-{VERSION} anchor")
        try:
            seq, time = raw["seq"], raw["time"]
            mac, kid, signature = raw["mac"], raw["key_id"], raw["signature"]
        except KeyError as exc:
            raise ValueError(f"it has no {exc.args[0]!r}") from None
        if not (isinstance(seq, int) and isinstance(time, int) and seq >= 0
                and all(isinstance(v, str) for v in (mac, kid, signature))):
            raise ValueError("its fields have the wrong types")
        return cls(seq, mac, time, kid, signature)


@dataclass(frozen=True)
class StoredAnchor:
    """An anchor file as found: its name and the anchor, or why it is not valid."""

    name: str
    anchor: Anchor | None
    problem: str | None = None


@dataclass(frozen=True)
class AnchorResult:
    """An anchor written: where, and the ``audit.anchor`` event that records it."""

    anchor: Anchor
    location: str
    file: str
    event_seq: int
    webhook: dict[str, Any] | None = None
    """The webhook delivery's outcome (``{"ok", "status"|"error"}``), if one was asked."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"anchor": self.anchor.to_dict(), "location": self.location,
                "file": self.file, "event_seq": self.event_seq, "webhook": self.webhook}

    def __str__(self) -> str:
        text = (f"anchored audit head #{self.anchor.seq} {self.anchor.mac[:12]} (key "
                f"{self.anchor.key_id}) to {self.location}/{self.file}; recorded as "
                f"event #{self.event_seq}")
        if self.webhook is not None:
            text += ("; webhook delivered" if self.webhook.get("ok") else
                     f"; webhook FAILED: {self.webhook.get('error') or self.webhook}")
        return text


class AnchorStore:
    """The anchors under one folder or fsspec URL."""

    def __init__(self, location: str, **storage_options: Any) -> None:
        if not location or not str(location).strip():
            raise ConfigurationError("an audit anchor location must not be empty")
        try:
            self.fs, path = url_to_fs(str(location), **storage_options)
        except Exception as exc:  # unknown protocol, missing driver
            raise ConfigurationError(f"cannot open audit anchor location {location!r}: "
                                     f"{exc}") from exc
        self.root = str(path).rstrip("/") or "/"
        self.location = location

    @property
    def label(self) -> str:
        """The location as recorded in ``audit.anchor`` events: an absolute path, or
        the URL without credentials."""
        if isinstance(self.fs, LocalFileSystem):
            return self.root
        protocol = self.fs.protocol[0] if isinstance(self.fs.protocol, (tuple, list)) \
            else self.fs.protocol
        return f"{protocol}://{self.root}"

    def exists(self) -> bool:
        """Whether the location exists (it is created by the first anchor)."""
        return bool(self.fs.exists(self.root))

    def write(self, anchor: Anchor) -> str:
        """Store ``anchor`` as a new file; returns its name (never overwrites one)."""
        self.fs.makedirs(self.root, exist_ok=True)
        data = orjson.dumps(anchor.to_dict(), option=orjson.OPT_INDENT_2 |
                            orjson.OPT_SORT_KEYS)
        base = anchor.file_name[:-len(".json")]
        for attempt in range(1, 1000):
            name = f"{base}.json" if attempt == 1 else f"{base}-{attempt}.json"
            path = f"{self.root}/{name}"
            try:
                with self.fs.open(path, "xb") as handle:
                    handle.write(data)
                return name
            except FileExistsError:
                continue
            except (ValueError, NotImplementedError):  # no exclusive mode here
                if self.fs.exists(path):
                    continue
                with self.fs.open(path, "wb") as handle:
                    handle.write(data)
                return name
        raise ConfigurationError(f"cannot find a free anchor file name in {self.label}")

    def names(self) -> list[str]:
        """Anchor file names, oldest seq first."""
        if not self.exists():
            return []
        names = [str(p).rstrip("/").rsplit("/", 1)[-1]
                 for p in self.fs.ls(self.root, detail=False)]
        return sorted(n for n in names if n.startswith("anchor-") and n.endswith(".json"))

    def read(self) -> list[StoredAnchor]:
        """Every anchor file, parsed: the anchor, or what is wrong with the file."""
        out: list[StoredAnchor] = []
        for name in self.names():
            try:
                with self.fs.open(f"{self.root}/{name}", "rb") as handle:
                    data = handle.read(MAX_ANCHOR_BYTES + 1)
                anchor = Anchor.from_bytes(data)
            except (OSError, ValueError) as exc:
                out.append(StoredAnchor(name, None, str(exc)))
                continue
            match = _NAME.match(name)
            if match is None or int(match.group(1)) != anchor.seq or \
                    match.group(2) != _stamp(anchor.time):
                out.append(StoredAnchor(name, anchor, "its name does not match its "
                                                      "seq and time"))
            else:
                out.append(StoredAnchor(name, anchor))
        return out


class AnchorLoop(LeaderLoop):
    """Writes an anchor every ``interval`` seconds when the chain head moved since the
    last one, while ``leading()`` (one writer per store; ``interval <= 0``: never)."""

    def __init__(self, write: Callable[[], object], interval: float = 3600.0,
                 leading: Callable[[], bool] = lambda: True) -> None:
        super().__init__(write, interval, leading=leading, name="mlops-audit-anchor",
                         failure="writing an audit anchor failed")
        self.write = write
