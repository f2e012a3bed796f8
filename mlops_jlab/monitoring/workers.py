"""Column-parallel execution: drift work is independent per column.

numpy's sorts, merges and cumulative sums release the GIL, so a few threads use
several cores without copying any data. Small inputs run serially, where starting
threads would cost more than it saves.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many values (rows x columns) in one call, columns run serially.
PARALLEL_MIN_VALUES = 2_000_000
MAX_WORKERS = 4


def default_workers() -> int:
    """Threads to use: the CPUs this process may run on, at most :data:`MAX_WORKERS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def map_columns(fn: Callable[[T], R], items: Sequence[T], *, values: int,
                workers: int | None = None) -> list[R]:
    """``[fn(item) for item in items]``, on threads when ``values`` is large enough."""
    count = default_workers() if workers is None else max(1, workers)
    if count == 1 or len(items) < 2 or values < PARALLEL_MIN_VALUES:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(count, len(items))) as pool:
        return list(pool.map(fn, items))
