"""Path hygiene: artifact paths that stay inside their run, and containment on disk.

An artifact path is a key in the store, but it becomes a file name whenever a model
folder or a deployment bundle is written out, and a header when it is downloaded. So
every path is checked where it comes in (logging, REST) *and* again where it is read
back (a row edited in the database is not trusted either).
"""

from __future__ import annotations

import os
import re

from ..errors import InvalidInput

MAX_PATH = 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def unsafe_reason(path: object) -> str | None:
    """Why ``path`` is not a safe relative artifact path (None when it is)."""
    if not isinstance(path, str) or not path:
        return "it must be a non-empty string"
    if len(path) > MAX_PATH:
        return f"it is longer than {MAX_PATH} characters"
    if _CONTROL.search(path):
        return "it contains control characters"
    if "\\" in path:
        return "it contains a backslash"
    if path.startswith("/") or _DRIVE.match(path):
        return "it is absolute"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "it has '.', '..' or empty parts"
    return None


def artifact_path(path: object, what: str = "artifact path") -> str:
    """``path`` when it is a safe relative path (``a/b.txt``), else InvalidInput."""
    reason = unsafe_reason(path)
    if reason:
        raise InvalidInput(f"{what} {path!r} is not allowed: {reason}", field=what)
    return str(path)


def is_inside(root: str | os.PathLike[str], candidate: str | os.PathLike[str]) -> bool:
    """Whether ``candidate`` is ``root`` or lies under it once both are resolved
    (symlinks followed; ``/data/root`` does not contain ``/data/rootX``)."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(candidate)
    try:
        return os.path.commonpath([real_root, real]) == real_root
    except ValueError:  # different drives
        return False


def folder_files(folder: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Every file under ``folder`` as ``(absolute path, relative artifact path)``, sorted.

    Symbolic links are not followed out of the folder: a link (to a file or a folder)
    whose target lies outside ``folder`` is refused with InvalidInput naming it, so
    logging a folder can never copy ``~/.ssh`` or ``/etc`` into the store. A link to a
    file inside the folder is stored as that file's content; a link to a folder inside
    it is skipped (what it points at is logged under its own path). Every relative path
    must pass :func:`artifact_path`.
    """
    root = os.path.realpath(folder)
    out: list[tuple[str, str]] = []
    for here, dirs, names in os.walk(root, followlinks=False):
        for entry in list(dirs) + names:
            full = os.path.join(here, entry)
            if os.path.islink(full) and not is_inside(root, full):
                rel = os.path.relpath(full, root)
                raise InvalidInput(
                    f"{rel!r} in {str(folder)!r} is a symbolic link to "
                    f"{os.path.realpath(full)!r}, outside the folder: refusing to log it",
                    field="local_path")
        for name in names:
            full = os.path.join(here, name)
            if not os.path.isfile(full):  # dangling link, socket, fifo
                continue
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            out.append((full, artifact_path(rel)))
    return sorted(out, key=lambda item: item[1])
