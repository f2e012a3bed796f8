"""Parameter grids: ``{"alpha": [0.01, 0.1], "depth": [3, 5]}`` → every combination."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidInput

#: more combinations than this is a typo, not a sweep
MAX_COMBINATIONS = 10_000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def combinations(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in the grid's key order (the last key
    varies fastest). :class:`InvalidInput` for an empty grid, a key that is not a
    Python name, a value list that is empty or not a list, or too many combinations."""
    if not isinstance(grid, Mapping) or not grid:
        raise InvalidInput("the grid must map parameter names to lists of values, "
                           "e.g. {'alpha': [0.01, 0.1]}")
    keys, choices = [], []
    total = 1
    for key, values in grid.items():
        if not isinstance(key, str) or not _NAME.match(key):
            raise InvalidInput(f"grid key {key!r} is not a parameter name")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise InvalidInput(f"grid values of {key!r} must be a list, got "
                               f"{type(values).__name__}")
        if not values:
            raise InvalidInput(f"grid values of {key!r} are empty")
        keys.append(key)
        choices.append(list(values))
        total *= len(values)
    if total > MAX_COMBINATIONS:
        raise InvalidInput(f"the grid has {total:,} combinations; at most "
                           f"{MAX_COMBINATIONS:,} per sweep")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*choices)]


def parse_value(text: str) -> Any:
    """A command-line value as papermill reads ``-p``: int, float, bool/None, else str."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text
