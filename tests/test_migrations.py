"""Schema migrations when several processes (two servers, many kernels) open one fresh
database at the same moment: every opener succeeds and the schema is upgraded once."""

from __future__ import annotations

import multiprocessing as mp
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mlops_jlab.store.migrations import HEAD

OPENERS = 6


def _open(url: str, barrier, errors) -> None:  # type: ignore[no-untyped-def]
    from mlops_jlab.store.db import Database

    barrier.wait()  # every process opens at the same moment
    try:
        db = Database(url)
        db.dispose()
    except BaseException as exc:  # reported to the test, which names it
        errors.put(f"{type(exc).__name__}: {exc}")
        raise


def _open_all_at_once(url: str) -> None:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(OPENERS)
    errors = ctx.Queue()
    procs = [ctx.Process(target=_open, args=(url, barrier, errors)) for _ in range(OPENERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert [p.exitcode for p in procs] == [0] * OPENERS, failures


def _versions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    finally:
        engine.dispose()


def test_processes_opening_one_fresh_sqlite_file_migrate_it_once(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fresh' / 'mlops.db'}"
    _open_all_at_once(url)
    assert _versions(url) == [HEAD]


def _postgres_url() -> str | None:
    for var in ("MLOPS_JLAB_TEST_DB_URL", "MLOPS_JLAB_TEST_PG_URL"):
        url = os.environ.get(var)
        if url and make_url(url).get_backend_name() == "postgresql":
            return url
    return None


@pytest.fixture
def fresh_postgres():
    """A new, empty PostgreSQL database on the test server (dropped afterwards)."""
    url = _postgres_url()
    if url is None:
        pytest.skip("set MLOPS_JLAB_TEST_DB_URL to a PostgreSQL URL (bash .ci/start-postgres)")
    name = f"mlops_migrate_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("isolation", ["read committed", "repeatable read"])
def test_processes_opening_one_fresh_postgres_database_migrate_it_once(fresh_postgres,
                                                                       isolation):
    # under repeatable read a migrator that queued inside its transaction would still
    # see the schema as it was before the first one committed: the lock is taken first
    name = make_url(fresh_postgres).database
    admin = create_engine(fresh_postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_isolation '
                          f"= '{isolation}'"))
    admin.dispose()
    _open_all_at_once(fresh_postgres)
    assert _versions(fresh_postgres) == [HEAD]
