"""Where a run comes from: notebook path and hash, git commit, imported packages."""

from __future__ import annotations

import subprocess
from pathlib import Path

import sklearn

from mlops_jlab.tracking import environment as env


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_git_commit_is_read_from_the_repository(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "notebooks" / "a.ipynb").write_text("{}")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = _git(repo, "rev-parse", "HEAD")
    found = env.git_commit(repo / "notebooks")
    assert found == {"commit": head, "branch": "main", "repo": str(repo.resolve())}
    _git(repo, "pack-refs", "--all")  # refs moved into packed-refs
    assert env.git_commit(repo / "notebooks")["commit"] == head
    assert env.git_commit(tmp_path / "elsewhere") is None or \
        env.git_commit(tmp_path / "elsewhere")["repo"] != str(repo)


def test_notebook_source_has_path_hash_and_commit(tmp_path: Path, monkeypatch):
    nb = tmp_path / "train.ipynb"
    nb.write_text('{"cells": []}')
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    src = env.source(cell_source="x = 1")
    assert src["kind"] == "notebook"
    assert src["notebook_abspath"] == str(nb)
    assert src["notebook_hash"] == env.file_sha256(nb) and len(src["notebook_hash"]) == 64
    assert src["cell_source"] == "x = 1"
    nb.write_text('{"cells": [1]}')
    assert env.source()["notebook_hash"] != src["notebook_hash"], "hash follows the content"


def test_environment_lists_imported_packages():
    info = env.environment()
    assert info["python"].count(".") == 2
    assert info["packages"]["scikit-learn"] == sklearn.__version__
