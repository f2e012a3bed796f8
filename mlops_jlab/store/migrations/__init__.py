"""Alembic migrations of the store, run programmatically on open."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from ..db import Database

HERE = Path(__file__).parent
HEAD = "0006"


def _current(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_to_head(db: Database) -> None:
    """Upgrade ``db`` to the newest revision inside one write transaction.

    The fast path reads ``alembic_version`` and returns when it is current, so
    opening a store costs no Alembic import. Concurrent openers serialize on the
    write lock (SQLite ``BEGIN IMMEDIATE``) and the second one finds nothing to do.
    """
    with db.read() as conn:
        if _current(conn) == HEAD:
            return
    from alembic import command
    from alembic.config import Config

    with db.write() as conn:
        if conn.dialect.name == "postgresql":
            # serialize concurrent migrators; released at commit
            conn.execute(text("SELECT pg_advisory_xact_lock(7241003)"))
        if _current(conn) == HEAD:
            return
        cfg = Config()
        cfg.set_main_option("script_location", str(HERE))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
