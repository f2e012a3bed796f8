"""Validation of registry names and artifact paths (no traversal, no surprises)."""

from __future__ import annotations

import re

from ..errors import InvalidInput

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def model_name(name: object) -> str:
    """A registered model name: letters, digits, ``.``, ``_``, ``-``; no path tricks."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise InvalidInput(
            f"model name {name!r} is not allowed: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit", field="name")
    return name


def alias_name(alias: object) -> str:
    """An alias: a letter, then letters, digits, ``_`` or ``-`` (e.g. production)."""
    if isinstance(alias, str) and alias.startswith("@"):
        alias = alias[1:]
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise InvalidInput(f"alias {alias!r} is not allowed: use a letter then letters, "
                           "digits, '_' or '-'", field="alias")
    if alias.lower() == "latest":
        raise InvalidInput("'latest' is reserved: it always means the newest version",
                           field="alias")
    return alias


def relative_path(path: object, what: str = "model_path") -> str:
    """A path inside a run's artifacts: relative, no ``..``, no empty parts."""
    if not isinstance(path, str) or not path.strip():
        raise InvalidInput(f"{what} must be a non-empty relative path", field=what)
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        raise InvalidInput(f"{what} {path!r} must be relative, not absolute", field=what)
    parts = path.replace("\\", "/").strip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise InvalidInput(f"{what} {path!r} may not contain '.', '..' or empty parts",
                           field=what)
    return "/".join(parts)
