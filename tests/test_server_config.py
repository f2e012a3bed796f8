"""Server traits choose the store, and kernels started by the server inherit it."""

from __future__ import annotations

import json
import os

import pytest


@pytest.fixture
def jp_server_config(tmp_path, monkeypatch):
    for var in ("MLOPS_JLAB_HOME", "MLOPS_JLAB_DB_URL", "MLOPS_JLAB_ARTIFACTS"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "trait-home"
    return {
        "ServerApp": {"jpserver_extensions": {"mlops_jlab": True},
                      "allow_unauthenticated_access": False},
        "MlopsJlab": {"home": str(home), "artifacts": str(tmp_path / "trait-artifacts")},
    }


async def test_traits_choose_the_store_and_reach_kernels(jp_fetch, tmp_path):
    response = await jp_fetch("mlops", "api", "experiments", method="POST",
                              body=json.dumps({"name": "from-traits"}))
    assert response.code == 201
    home = tmp_path / "trait-home"
    assert (home / "mlops.db").exists()
    assert (tmp_path / "trait-artifacts" / "sha256").is_dir()
    # a kernel started now would see the same store
    assert os.environ["MLOPS_JLAB_HOME"] == str(home)
    assert os.environ["MLOPS_JLAB_DB_URL"] == f"sqlite:///{home / 'mlops.db'}"
    assert os.environ["MLOPS_JLAB_ARTIFACTS"] == str(tmp_path / "trait-artifacts")
