"""The argument line of a magic, parsed with IPython's ``magic_arguments``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import parse_argstring


def parse_line(magic: Callable[..., Any], line: str, label: str) -> argparse.Namespace:
    """The arguments of ``magic`` in ``line``; argparse's exits (``-h``, junk) become a
    ``UsageError`` naming the magic (``label``, e.g. ``%%mlops_train``)."""
    try:
        return parse_argstring(magic, line)
    except SystemExit as exc:
        raise UsageError(f"{label}: bad arguments {line!r}") from exc
