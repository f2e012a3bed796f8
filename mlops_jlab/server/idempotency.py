"""Idempotency keys: a retried write is applied once.

Team-mode clients send ``Idempotency-Key: <random>`` on every write and resend the
same key when they retry (connection dropped, 502/503/504). The first request with a
key reserves it for its user; its response (status and body) is stored when it
succeeds, and a later request with the same key by the same user gets that stored
response back without running again. The same key with a different method, path or
body is a 409 (``idempotency_key_reused``); a repeat that arrives while the first is
still running is a 409 ``request_in_progress``, which clients retry after a pause.
A failed request (any error) releases its key, so a retry runs again. Keys are kept
for :data:`TTL_MS`.

Handlers opt in with the :func:`idempotent` decorator (below ``@authorized``) on a
class that mixes in :class:`ReplayableWrites`.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from tornado.concurrent import Future

from ..errors import IdempotencyKeyReused, InvalidInput, RequestInProgress
from ..store import Database
from ..store import schema as s

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 128
TTL_MS = 24 * 3600 * 1000
PURGE_EVERY_S = 60.0
IN_PROGRESS = 0


@dataclass(frozen=True)
class StoredResponse:
    """What the first request with a key answered."""

    status: int
    body: bytes


def request_digest(method: str, uri: str, body: bytes | None) -> str:
    """sha256 of what makes two requests the same: method, path with query, body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\n", uri.encode(), b"\n", body or b""):
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    """A key is 1 to 128 printable ASCII characters."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidInput(f"{KEY_HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII "
                           "characters", field=KEY_HEADER)
    return key


class IdempotencyStore:
    """Reservations and stored responses in the ``idempotency_keys`` table."""

    def __init__(self, db: Database, ttl_ms: int = TTL_MS) -> None:
        self.db = db
        self.ttl_ms = ttl_ms
        self._purged = float("-inf")
        self._lock = threading.Lock()

    def begin(self, key: str, user: str, method: str, path: str,
              digest: str) -> StoredResponse | None:
        """Reserve ``key`` for ``user`` (``None``: go ahead and run the request), or the
        stored response of the earlier request with this key."""
        self._purge_now_and_then()
        now = _now_ms()
        for _attempt in range(3):
            try:
                with self.db.write() as conn:
                    conn.execute(delete(s.idempotency_keys).where(
                        s.idempotency_keys.c.key == key, s.idempotency_keys.c.user == user,
                        s.idempotency_keys.c.created_at < now - self.ttl_ms))
                    conn.execute(insert(s.idempotency_keys).values(
                        key=key, user=user, method=method[:8], path=path[:2048],
                        request_hash=digest, status=IN_PROGRESS, response=None,
                        created_at=now))
                return None
            except IntegrityError:
                pass
            with self.db.read() as conn:
                row = conn.execute(select(s.idempotency_keys).where(
                    s.idempotency_keys.c.key == key,
                    s.idempotency_keys.c.user == user)).first()
            if row is None:  # released in between: try to reserve again
                continue
            if row.request_hash != digest:
                raise IdempotencyKeyReused(
                    f"{KEY_HEADER} {key!r} was already used for {row.method} {row.path} "
                    "with another body; use a new key for a new request")
            if row.status == IN_PROGRESS:
                raise RequestInProgress(
                    f"the request with {KEY_HEADER} {key!r} is still running; retry shortly")
            return StoredResponse(int(row.status), (row.response or "").encode())
        raise RequestInProgress(f"{KEY_HEADER} {key!r} is contended; retry shortly")

    def complete(self, key: str, user: str, status: int, body: bytes) -> None:
        """Store the response of the request that reserved ``key``."""
        with self.db.write() as conn:
            conn.execute(update(s.idempotency_keys).where(
                s.idempotency_keys.c.key == key, s.idempotency_keys.c.user == user).values(
                status=status, response=body.decode("utf-8", errors="replace")))

    def release(self, key: str, user: str) -> None:
        """Forget a reservation whose request failed (a retry runs again)."""
        with self.db.write() as conn:
            conn.execute(delete(s.idempotency_keys).where(
                s.idempotency_keys.c.key == key, s.idempotency_keys.c.user == user,
                s.idempotency_keys.c.status == IN_PROGRESS))

    def purge(self, older_than_ms: int | None = None) -> int:
        """Delete keys older than the TTL; how many went."""
        cutoff = _now_ms() - (self.ttl_ms if older_than_ms is None else older_than_ms)
        with self.db.write() as conn:
            return int(conn.execute(delete(s.idempotency_keys).where(
                s.idempotency_keys.c.created_at < cutoff)).rowcount or 0)

    def _purge_now_and_then(self) -> None:
        with self._lock:
            if time.monotonic() - self._purged < PURGE_EVERY_S:
                return
            self._purged = time.monotonic()
        self.purge()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class ReplayableWrites:
    """Mixin of handlers with :func:`idempotent` verbs: holds the response back until it
    is stored, so a retry can never see the key without its response."""

    _held: list[bytes] | None = None

    def finish(self, chunk: Any = None, **kwargs: Any) -> Future[None]:
        held = self._held
        if held is None:
            return super().finish(chunk, **kwargs)  # type: ignore[misc]
        if chunk is not None:
            held.append(chunk if isinstance(chunk, bytes) else str(chunk).encode())
        done: Future[None] = Future()
        done.set_result(None)
        return done


def idempotent(method: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Run a write verb once per ``Idempotency-Key`` (no header: run as usual)."""

    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        raw = self.request.headers.get(KEY_HEADER)
        if raw is None:
            await method(self, *args, **kwargs)
            return
        if not isinstance(self, ReplayableWrites):
            raise TypeError(f"{type(self).__name__} uses @idempotent without ReplayableWrites")
        await _run_once(self, method, raw, args, kwargs)

    return wrapper


async def _run_once(self: Any, method: Callable[..., Awaitable[None]], raw: str,
                    args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Reserve the key, then replay the stored answer or run ``method`` and store its
    answer before sending it."""
    key, user = check_key(raw.strip()), self.username
    store: IdempotencyStore = self.mlops.idempotency
    request = self.request
    digest = request_digest(request.method, request.uri, request.body)
    stored = await self.call(store.begin, key, user, request.method, request.path, digest)
    if stored is not None:
        self.set_status(stored.status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header(REPLAYED_HEADER, "true")
        self.finish(stored.body or None)
        return
    self._held = []
    try:
        await method(self, *args, **kwargs)
    except BaseException:
        self._held = None
        await self.call(store.release, key, user)
        raise
    body, self._held = b"".join(self._held), None
    status = self.get_status()
    if 200 <= status < 300:
        await self.call(store.complete, key, user, status, body)
    else:
        await self.call(store.release, key, user)
    self.finish(body or None)
