"""Alembic migrations of the store, run programmatically on open."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from ..db import Database

HERE = Path(__file__).parent
HEAD = "0010"


def _current(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_to_head(db: Database) -> None:
    """Upgrade ``db`` to the newest revision inside one write transaction.

    The fast path reads ``alembic_version`` and returns when it is current, so
    opening a store costs no Alembic import. Concurrent openers (other processes,
    other servers) serialize on :meth:`Database.migration_lock` and then on the write
    lock (SQLite ``BEGIN IMMEDIATE``); the later ones find nothing to do. The migration
    transaction begins after the lock is held, so it sees what an earlier migrator
    committed whatever the isolation level.
    """
    with db.read() as conn:
        if _current(conn) == HEAD:
            return
    from alembic import command
    from alembic.config import Config

    with db.migration_lock(), db.write() as conn:
        if _current(conn) == HEAD:
            return
        cfg = Config()
        cfg.set_main_option("script_location", str(HERE))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
