"""PII in the prediction log: columns a deployment hashes, masks or drops before storing.

A deployment's desired state may carry ``"pii": {column: mode}`` with modes

- ``hash``: a keyed HMAC-SHA256 of the value, truncated to :data:`HASH_CHARS` hex
  characters. Equal values give equal hashes, so drift on a hashed categorical still
  works (monitoring hashes the reference the same way). The key is per deployment,
  derived from the host's serving key (:mod:`.keys`): it is never stored in the
  database nor logged, and without it the hashes cannot be reversed by trying values.
- ``mask``: the value becomes :data:`MASK` (drift on it is meaningless: not tested).
- ``drop``: the column is not stored at all.

Models always see the real values; only what is logged changes.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..errors import InvalidInput

MODES = ("hash", "mask", "drop")
MASK = "***"
HASH_CHARS = 16


def check_pii(pii: Any, columns: Iterable[str] | None) -> dict[str, str]:
    """``pii`` as ``{column: mode}``, checked against the model signature's ``columns``
    (``None``: the model has no signature, so no column can be checked)."""
    if pii is None:
        return {}
    if not isinstance(pii, Mapping):
        raise InvalidInput("pii must be an object {column: 'hash' | 'mask' | 'drop'}",
                           field="pii")
    out: dict[str, str] = {}
    for column, mode in pii.items():
        if not isinstance(column, str) or not column:
            raise InvalidInput(f"pii column names must be strings, not {column!r}",
                               field="pii")
        if mode not in MODES:
            raise InvalidInput(f"pii mode of column {column!r} must be one of "
                               f"{', '.join(MODES)}, not {mode!r}", field="pii")
        out[column] = str(mode)
    if not out:
        return out
    if columns is None:
        raise InvalidInput("pii needs a model signature to check column names against; "
                           "this model version has none", field="pii")
    known = set(columns)
    unknown = sorted(c for c in out if c not in known)
    if unknown:
        raise InvalidInput(f"pii names columns not in the model signature: {unknown}",
                           field="pii")
    return out


def pii_key(host_key: bytes, deployment: str) -> bytes:
    """The hashing key of one deployment (a different domain than the internal token)."""
    return hmac.new(host_key, b"pii\x00" + deployment.encode(), hashlib.sha256).digest()


def canonical(value: Any) -> str | None:
    """One text form per value, whichever side produced it: a worker's float matrix
    (``42.0``), a profile sample's JSON (``42``) or a string. ``None`` when missing."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def hash_value(key: bytes, value: Any) -> str | None:
    """The logged form of a hashed value (missing stays missing)."""
    text = canonical(value)
    if text is None:
        return None
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:HASH_CHARS]


class PiiPolicy:
    """Applies a deployment's ``{column: mode}`` to column-split rows before logging."""

    def __init__(self, columns: Mapping[str, str], key: bytes | None) -> None:
        if any(mode == "hash" for mode in columns.values()) and not key:
            raise InvalidInput("hashing pii columns needs the deployment's key", field="pii")
        self.columns = dict(columns)
        self.key = key or b""

    def __bool__(self) -> bool:
        return bool(self.columns)

    def apply(self, form: Mapping[str, Any]) -> dict[str, Any]:
        """A new ``{"columns", "data"}`` with PII columns hashed, masked or left out
        (``form`` and its array are not changed: the model's inputs stay intact)."""
        columns = [str(c) for c in form["columns"]]
        if not any(c in self.columns for c in columns):
            return dict(form)
        data = np.asarray(form["data"])
        if data.ndim != 2:
            data = np.asarray(form["data"], dtype=object).reshape(len(data), len(columns))
        keep = [i for i, c in enumerate(columns) if self.columns.get(c) != "drop"]
        out = data[:, keep].astype(object)
        for j, i in enumerate(keep):
            mode = self.columns.get(columns[i])
            if mode == "hash":
                out[:, j] = [hash_value(self.key, v) for v in out[:, j]]
            elif mode == "mask":
                out[:, j] = MASK
        return {"columns": [columns[i] for i in keep], "data": out}

    def hash_column(self, values: Iterable[Any]) -> list[str | None]:
        """Hashes of ``values`` as the log stores them (for drift references)."""
        return [hash_value(self.key, v) for v in values]
