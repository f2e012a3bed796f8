"""Facts about the process that logs a run: its Python, packages, notebook and git commit.

Everything here is cached so that starting a run costs microseconds, not a
subprocess: package versions are resolved once per set of imported modules, git
commits are read from ``.git`` files directly, notebook hashes by (path, mtime, size).
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

_pkg_cache: dict[frozenset[str], dict[str, str]] = {}
_last: tuple[int, dict[str, str]] = (-1, {})


@lru_cache(maxsize=1)
def _module_to_distributions() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


_KNOWN = {"sklearn": ["scikit-learn"], "skops": ["skops"], "numpy": ["numpy"],
          "scipy": ["scipy"], "pandas": ["pandas"], "xgboost": ["xgboost"],
          "lightgbm": ["lightgbm"], "catboost": ["catboost"]}


def distributions_of(module: str) -> list[str]:
    """Distributions that provide a top-level module (fast path for common ones)."""
    if module in _KNOWN:
        return _KNOWN[module]
    try:
        metadata.version(module)
        return [module]
    except metadata.PackageNotFoundError:
        return list(_module_to_distributions().get(module, []))


def imported_packages() -> dict[str, str]:
    """Distribution name → version for every top-level module imported in this process."""
    global _last
    count = len(sys.modules)
    if count == _last[0]:
        return _last[1]  # nothing imported since the last call
    tops = frozenset(name.split(".", 1)[0] for name in list(sys.modules)
                     if not name.startswith("_"))
    cached = _pkg_cache.get(tops)
    if cached is not None:
        _last = (count, cached)
        return cached
    mapping = _module_to_distributions()
    out: dict[str, str] = {}
    for top in tops:
        for dist in mapping.get(top, ()):
            if dist in out:
                continue
            try:
                out[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
    result = dict(sorted(out.items(), key=lambda kv: kv[0].lower()))
    _pkg_cache.clear()
    _pkg_cache[tops] = result
    _last = (count, result)
    return result


def environment() -> dict[str, Any]:
    """Python version, platform and imported package versions."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "packages": imported_packages(),
    }


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def git_commit(start: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Commit (and branch, dirty unknown) of the git repository holding ``start``."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        dot_git = folder / ".git"
        if dot_git.is_file():  # worktree or submodule: "gitdir: <path>"
            text = _read(dot_git) or ""
            if text.startswith("gitdir:"):
                dot_git = (folder / text.split(":", 1)[1].strip()).resolve()
        if dot_git.is_dir():
            return _head(dot_git, folder)
    return None


def _head(git_dir: Path, work_tree: Path) -> dict[str, Any] | None:
    head = _read(git_dir / "HEAD")
    if head is None:
        return None
    if not head.startswith("ref:"):
        return {"commit": head, "branch": None, "repo": str(work_tree)}
    ref = head.split(":", 1)[1].strip()
    common = git_dir
    commondir = _read(git_dir / "commondir")
    if commondir:
        common = (git_dir / commondir).resolve()
    for base in (git_dir, common):
        sha = _read(base / ref)
        if sha:
            return {"commit": sha, "branch": ref.removeprefix("refs/heads/"),
                    "repo": str(work_tree)}
    packed = _read(common / "packed-refs") or ""
    for line in packed.splitlines():
        if line.endswith(" " + ref):
            return {"commit": line.split(" ", 1)[0],
                    "branch": ref.removeprefix("refs/heads/"), "repo": str(work_tree)}
    return {"commit": None, "branch": ref.removeprefix("refs/heads/"), "repo": str(work_tree)}


_hash_cache: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike[str]) -> str | None:
    """sha256 of a file's bytes, cached by (path, mtime, size); None when unreadable."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _hash_cache:
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError:
            return None
        _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


def notebook_path() -> str | None:
    """Absolute path of the notebook this kernel serves, when Jupyter told us."""
    for var in ("MLOPS_JLAB_NOTEBOOK", "JPY_SESSION_NAME"):
        value = os.environ.get(var)
        if value and value.endswith(".ipynb"):
            path = Path(value)
            if not path.is_absolute():
                path = Path.cwd() / path.name
            return str(path)
    return None


def source(cell_source: str | None = None) -> dict[str, Any]:
    """Where the code logging a run comes from: notebook, script or interactive."""
    out: dict[str, Any] = {}
    nb = notebook_path()
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if nb:
        out.update(kind="notebook", notebook_abspath=nb, notebook_hash=file_sha256(nb))
        where: str = str(Path(nb).parent)
    elif script and "ipykernel" not in script and Path(script).exists():
        out.update(kind="script", script=str(Path(script).resolve()),
                   script_hash=file_sha256(script))
        where = str(Path(script).resolve().parent)
    else:
        out["kind"] = "interactive"
        where = os.getcwd()
    if os.environ.get("PAPERMILL_EXECUTION") or os.environ.get("MLOPS_JLAB_PAPERMILL"):
        out["kind"] = "papermill"
    git = git_commit(where)
    if git:
        out.update(git_commit=git["commit"], git_branch=git["branch"], git_repo=git["repo"])
    if cell_source is not None:
        out["cell_source"] = cell_source
    return out
