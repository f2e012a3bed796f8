"""JSON for stored documents and HTTP bodies: orjson, with numpy arrays and scalars.

Non-finite floats become ``null`` (valid JSON everywhere, PostgreSQL included).
Documents written before by the standard library (which could write ``NaN``) still read.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import orjson

OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def default(value: Any) -> Any:
    """What orjson cannot take natively: object or non-contiguous arrays, numpy
    scalars, pandas timestamps."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps_bytes(value: Any) -> bytes:
    """``value`` as JSON bytes."""
    return orjson.dumps(value, option=OPTIONS, default=default)


def dumps(value: Any) -> str:
    """``value`` as a JSON string (the store's serializer)."""
    return dumps_bytes(value).decode()


def loads(text: str | bytes) -> Any:
    """Parse JSON; falls back to the standard library for old ``NaN`` literals."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
