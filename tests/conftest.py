"""Shared fixtures: an isolated store per test, and a Jupyter server with the extension.

Set ``MLOPS_JLAB_TEST_DB_URL`` (e.g. a PostgreSQL URL) to run the store-backed tests
against another database; the default is a fresh SQLite file per test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)


def _reset_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    from mlops_jlab.store.schema import metadata

    engine = create_engine(url)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture
def mlops_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MLOPS_JLAB_HOME (and database) for one test; the API is re-pointed at it."""
    home = tmp_path / "mlops-home"
    # the server extension exports its store to os.environ (for kernels): put every
    # MLOPS_JLAB_* variable back as it was afterwards (monkeypatch.delenv of an absent
    # variable records nothing to undo)
    saved = {k: v for k, v in os.environ.items() if k.startswith("MLOPS_JLAB_")}
    monkeypatch.setenv("MLOPS_JLAB_HOME", str(home))
    monkeypatch.setenv("MLOPS_JLAB_USER", "alice")
    for var in ("MLOPS_JLAB_URI", "MLOPS_JLAB_ARTIFACTS", "JPY_SESSION_NAME"):
        monkeypatch.delenv(var, raising=False)
    external = os.environ.get("MLOPS_JLAB_TEST_DB_URL")
    if external:
        _reset_database(external)
        monkeypatch.setenv("MLOPS_JLAB_DB_URL", external)
    else:
        monkeypatch.delenv("MLOPS_JLAB_DB_URL", raising=False)
    import mlops_jlab as mlops
    from mlops_jlab.client import api

    mlops.configure()
    api._state.experiment = None
    yield home
    api._state.runs.clear()
    mlops.backend().close()
    for key in [k for k in os.environ if k.startswith("MLOPS_JLAB_") and k not in saved]:
        del os.environ[key]
    os.environ.update(saved)


@pytest.fixture
def tracking(mlops_home: Path):
    """The tracking service of the test's store."""
    import mlops_jlab as mlops

    return mlops.backend().tracking  # type: ignore[attr-defined]


@pytest.fixture
def jp_server_config(mlops_home: Path):
    """Jupyter server with the extension, authentication required."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"mlops_jlab": True},
            "allow_unauthenticated_access": False,
        },
        "MlopsJlab": {"home": str(mlops_home)},
    }
