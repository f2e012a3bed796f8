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


def _database_per_worker() -> None:
    """Under pytest-xdist, each worker gets its own PostgreSQL database (``<db>_gw0``,
    ...), created on first use: the tests reset the whole database they run on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    for var in ("MLOPS_JLAB_TEST_DB_URL", "MLOPS_JLAB_TEST_PG_URL"):
        value = os.environ.get(var)
        if not value or not value.startswith("postgresql"):
            continue
        url = make_url(value)
        name = f"{url.database}_{worker}"
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        os.environ[var] = url.set(database=name).render_as_string(hide_password=False)


def pytest_configure(config: pytest.Config) -> None:
    _database_per_worker()
    config.addinivalue_line(
        "markers", "both_backends: run the module's tests with the local backend and with "
        "the team-mode HttpBackend against a real Jupyter server")
    config.addinivalue_line(
        "markers", "team_only: run with the team-mode HttpBackend only (transport tests)")
    config.addinivalue_line(
        "markers", "local_only: a test of a both_backends module that reaches into the "
        "services (runs with the local backend only)")
    config.addinivalue_line(
        "markers", "team_identities: the module's Jupyter server (jp_fetch) takes mlops API "
        "tokens (MlopsIdentityProvider) and holds roles to Jupyter's own resources "
        "(MlopsAuthorizer)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``backend_kind`` is ``local`` and ``http`` for tests marked ``both_backends``."""
    if "backend_kind" not in metafunc.fixturenames:
        return
    node = metafunc.definition
    if node.get_closest_marker("team_only"):
        metafunc.parametrize("backend_kind", ["http"], indirect=True)
    elif node.get_closest_marker("both_backends") and not node.get_closest_marker("local_only"):
        metafunc.parametrize("backend_kind", ["local", "http"], indirect=True)


@pytest.fixture
def backend_kind(request: pytest.FixtureRequest) -> str:
    """How the test's Python API reaches the services: ``local`` or ``http`` (team mode)."""
    return getattr(request, "param", "local")


@pytest.fixture(scope="session")
def team_server(tmp_path_factory: pytest.TempPathFactory):
    """One Jupyter server subprocess with the extension for the whole session."""
    from tests.helpers.team_server import TeamServer

    server = TeamServer(tmp_path_factory.mktemp("team"))
    try:
        yield server.wait_ready()
    finally:
        server.stop()


@pytest.fixture
def mlops_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend_kind: str,
               request: pytest.FixtureRequest) -> Path:
    """A fresh MLOPS_JLAB_HOME (and database) for one test; the API is re-pointed at it.

    With ``backend_kind == "http"`` the API talks to the session's Jupyter server (its
    store emptied for the test) and the home only holds the client's model cache."""
    home = tmp_path / "mlops-home"
    # the server extension exports its store to os.environ (for kernels): put every
    # MLOPS_JLAB_* variable back as it was afterwards (monkeypatch.delenv of an absent
    # variable records nothing to undo)
    saved = {k: v for k, v in os.environ.items() if k.startswith("MLOPS_JLAB_")}
    monkeypatch.setenv("MLOPS_JLAB_HOME", str(home))
    monkeypatch.setenv("MLOPS_JLAB_USER", "alice")
    for var in ("MLOPS_JLAB_URI", "MLOPS_JLAB_ARTIFACTS", "MLOPS_JLAB_AUDIT_KEY_FILE",
                "JPY_SESSION_NAME"):
        monkeypatch.delenv(var, raising=False)
    external = os.environ.get("MLOPS_JLAB_TEST_DB_URL")
    if external:
        _reset_database(external)
        monkeypatch.setenv("MLOPS_JLAB_DB_URL", external)
    else:
        monkeypatch.delenv("MLOPS_JLAB_DB_URL", raising=False)
    if backend_kind == "http":
        server = request.getfixturevalue("team_server")
        server.reset()
        monkeypatch.setenv("MLOPS_JLAB_URI", server.url)
        monkeypatch.setenv("MLOPS_JLAB_TOKEN", server.token)
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
def jp_server_config(mlops_home: Path, request: pytest.FixtureRequest):
    """Jupyter server with the extension, authentication required; with the
    ``team_identities`` mark, also per-user API tokens and role-aware authorization."""
    server: dict = {"jpserver_extensions": {"mlops_jlab": True},
                    "allow_unauthenticated_access": False}
    if request.node.get_closest_marker("team_identities"):
        server["identity_provider_class"] = "mlops_jlab.server.identity.MlopsIdentityProvider"
        server["authorizer_class"] = "mlops_jlab.server.identity.MlopsAuthorizer"
    # In-process servers share the test's environment, so they stay out of team mode
    # (which takes the store's variables out of os.environ for the kernels it starts);
    # team mode itself is tested against servers in their own processes.
    return {"ServerApp": server, "MlopsJlab": {"home": str(mlops_home), "team_mode": False}}


@pytest.fixture
def jp_fetch(jp_fetch):
    """pytest-jupyter's ``jp_fetch``, sending a body as JSON unless told otherwise (as the
    frontend does; Tornado's client would default a POST to form encoding, which the API
    refuses with 415), with a 120 s time limit instead of 20 s (starting serving workers
    takes longer than that when CI runs test modules side by side: a 599)."""

    def fetch(*parts, headers=None, **kwargs):
        kwargs.setdefault("request_timeout", 120)
        headers = dict(headers or {})
        if kwargs.get("body") is not None and not any(
                k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        return jp_fetch(*parts, headers=headers, **kwargs)

    return fetch
