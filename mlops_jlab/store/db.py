"""Database engine: SQLite (WAL, busy timeout, ``BEGIN IMMEDIATE`` writes) or any SQL URL.

``Database.write()`` opens a transaction that takes SQLite's write lock up front, so
concurrent kernels queue on the busy timeout instead of failing with "database is
locked" when a deferred transaction tries to upgrade. ``Database.read()`` opens a
deferred transaction that sees one consistent snapshot.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ..errors import ConfigurationError
from . import codec

_WRITE = "mlops_write"
BUSY_TIMEOUT_MS = 60_000
#: PostgreSQL advisory lock key held while the schema is migrated (any constant shared by
#: every mlops_jlab process; ``b"mlops_jl"`` read as a big-endian integer)
MIGRATION_LOCK_KEY = int.from_bytes(b"mlops_jl", "big") & 0x7FFF_FFFF_FFFF_FFFF


def _number_or_none(text: object) -> float | None:
    """SQL ``mlops_num(text)``: the float a text spells, else NULL (not SQLite's 0)."""
    if isinstance(text, (int, float)):
        return float(text)
    try:
        return float(str(text))
    except (TypeError, ValueError):
        return None


def _create_private(path: Path) -> None:
    """Create a new SQLite file (and its folder) readable by this OS user only; SQLite
    gives its WAL and shared-memory files the database file's mode. An existing file
    keeps its mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):  # exists, or SQLite reports why it cannot open
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        _create_private(Path(parsed.database).expanduser())
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        poolclass=NullPool if parsed.database in (None, "", ":memory:") else None,
        json_serializer=codec.dumps, json_deserializer=codec.loads,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
        dbapi_conn.create_function("mlops_num", 1, _number_or_none, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """One SQL database: engine, transactions and schema migrations."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        try:
            backend = make_url(url).get_backend_name()
        except Exception as exc:  # sqlalchemy raises ArgumentError on junk
            raise ConfigurationError(f"cannot parse database URL {url!r}: {exc}") from exc
        self.dialect = backend
        if backend == "sqlite":
            self.engine = _sqlite_engine(url)
        else:
            try:
                self.engine = create_engine(url, pool_pre_ping=True,
                                            json_serializer=codec.dumps,
                                            json_deserializer=codec.loads)
            except Exception as exc:
                raise ConfigurationError(
                    f"cannot open database {url!r}: {exc}"
                ) from exc
        self._lock = threading.Lock()
        if migrate:
            self.migrate()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (SQLite: ``BEGIN IMMEDIATE``); commits on success."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction that sees one snapshot."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (no-op when already there).

        Safe when several processes open one database at once (two servers starting
        together): see :meth:`migration_lock`."""
        from .migrations import upgrade_to_head

        with self._lock:
            upgrade_to_head(self)

    @contextmanager
    def migration_lock(self) -> Iterator[None]:
        """Hold the cross-process migration lock.

        PostgreSQL: a session advisory lock (:data:`MIGRATION_LOCK_KEY`) on a dedicated
        autocommit connection, taken before the migration's own transaction begins and
        released afterwards (the server releases it too if this process dies). SQLite:
        nothing more is needed, a migration is one ``BEGIN IMMEDIATE`` transaction, which
        other processes queue behind on the busy timeout.
        """
        if self.dialect != "postgresql":
            yield
            return
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"),
                             {"key": MIGRATION_LOCK_KEY})

    def table_names(self) -> list[str]:
        """Names of the tables present (for diagnostics and tests)."""
        return sorted(inspect(self.engine).get_table_names())

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    def ping(self) -> None:
        """Fail with :class:`ConfigurationError` when the database is unreachable."""
        try:
            with self.read() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise ConfigurationError(f"database {self.url!r} is unreachable: {exc}") from exc
