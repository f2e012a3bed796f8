"""The isolated model process (see :mod:`.isolation`): ``python -m
mlops_jlab.models.isolated_main WORKDIR``.

Reads ``WORKDIR/request.json``, the model folders under ``WORKDIR/models/`` and Arrow
frames ``WORKDIR/<name>.arrow``; prints one JSON line: ``{"ok": true, "result": ...}`` or
``{"ok": false, "error": {"class", "message", "details"}}``. It never opens the store.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _frame(work: Path, name: str) -> Any:
    import pyarrow as pa
    import pyarrow.ipc

    path = work / f"{name}.arrow"
    if not path.exists():
        return None
    with pa.OSFile(str(path), "rb") as source:
        return pyarrow.ipc.open_stream(source).read_all().to_pandas()


def _load(work: Path, key: str, trusted: list[str]) -> Any:
    from .loader import load_folder

    return load_folder(str(work / "models" / key), trusted_types=trusted)


def _run_rules(work: Path, request: dict[str, Any]) -> Any:
    from ..registry.rules import run_rules

    trusted = list(request.get("trusted_types") or [])
    model = _load(work, "candidate", trusted)
    X, y_frame = _frame(work, "X"), _frame(work, "y")
    y = None if y_frame is None else y_frame["y"].to_numpy()

    def production() -> Any:
        if not (work / "models" / "production").is_dir():
            return None
        return _load(work, "production", trusted)

    return run_rules(list(request.get("rules") or []), model, X, y, production)


def _preflight(work: Path, request: dict[str, Any]) -> dict[str, str | None]:
    trusted = list(request.get("trusted_types") or [])
    out: dict[str, str | None] = {}
    for folder in sorted((work / "models").iterdir()):
        try:
            _load(work, folder.name, trusted)
            out[folder.name] = None
        except Exception as exc:  # reported to the caller, by name
            out[folder.name] = f"{type(exc).__name__}: {exc}"
    return out


def main(argv: list[str]) -> int:
    """Answer one request; the exit code is 0 whenever an answer was printed."""
    from ..errors import MlopsError

    work = Path(argv[0])
    try:
        request = json.loads((work / "request.json").read_text())
        op = request.get("op")
        if op == "run_rules":
            result: Any = _run_rules(work, request)
        elif op == "preflight":
            result = _preflight(work, request)
        else:
            raise ValueError(f"unknown operation {op!r}")
        answer: dict[str, Any] = {"ok": True, "result": result}
    except MlopsError as exc:
        answer = {"ok": False, "error": {"class": type(exc).__name__,
                                         "message": exc.message,
                                         "details": exc.details}}
    except Exception as exc:  # the parent turns it into a typed error
        answer = {"ok": False, "error": {"class": "", "message":
                                         f"{type(exc).__name__}: {exc}"}}
    from ..store import codec

    sys.stdout.write("\n" + codec.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
