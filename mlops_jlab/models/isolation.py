"""Model files from the store run in a separate process that holds no secrets.

A model folder is untrusted input: the trusted-type check refuses what it does not
know, but a server must not bet the store on that check alone. The server's own model
work (validation gates with their champion/challenger comparison, and the preflight load
before a deployment is accepted) therefore runs in a short-lived child process:

- its environment is built from an allow-list (:data:`PASSED_VARS`): no database URL or
  password, no artifact-store credentials, no API, deployment or Jupyter tokens, no
  server keys; ``HOME`` and the working directory are a private temporary folder;
- it receives the model files (hashes checked again by the loader), the data as Arrow
  IPC and a JSON request in that folder, and answers with JSON on its standard output;
- the trusted types come from the server's configuration (``c.MlopsJlab.trusted_types``),
  never from a request; pickle is never loaded.

A model that escapes the type check then runs as a process with nothing to reach the
store with. (It still runs as the server's OS user: keep the store's files and keys
unreadable to other processes of that user where that matters, e.g. PostgreSQL with a
password instead of a local SQLite file.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import errors
from ..errors import InvalidInput, MlopsError
from .loader import check_model_paths

#: environment variables a model process may see (everything else is dropped)
PASSED_VARS = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH",
               "VIRTUAL_ENV", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MKL_NUM_THREADS",
               "PYTHONHASHSEED")
DEFAULT_TIMEOUT = 300.0


def scrubbed_env(home: str | os.PathLike[str]) -> dict[str, str]:
    """The environment of a model process: the allow-listed variables, ``HOME`` and
    ``TMPDIR`` in its private folder."""
    env = {k: v for k, v in os.environ.items() if k in PASSED_VARS}
    env.update({"HOME": str(home), "TMPDIR": str(home), "PYTHONNOUSERSITE": "1",
                "MLOPS_JLAB_ISOLATED": "1"})
    return env


def _write_model(root: Path, files: Mapping[str, str],
                 read_blob: Callable[[str], bytes]) -> None:
    check_model_paths(files)
    for rel, sha in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(read_blob(sha))


def _write_arrow(path: Path, frame: Any) -> None:
    import pyarrow as pa
    import pyarrow.ipc

    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.OSFile(str(path), "wb") as sink, pyarrow.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)


def _raise(error: Mapping[str, Any]) -> None:
    """Re-raise an error the model process reported, as the same typed error."""
    cls = getattr(errors, str(error.get("class", "")), None)
    message = str(error.get("message") or "the model process failed")
    if isinstance(cls, type) and issubclass(cls, MlopsError):
        try:
            exc = cls(message, **(error.get("details") or {}))
        except TypeError:
            exc = cls(message)
        raise exc
    raise InvalidInput(f"the model failed in its isolated process: {message}")


class IsolatedModels:
    """Runs model work in a child process with a scrubbed environment."""

    def __init__(self, read_blob: Callable[[str], bytes], *,
                 trusted_types: Iterable[str] = (), timeout: float = DEFAULT_TIMEOUT) -> None:
        self.read_blob = read_blob
        self.trusted_types = sorted({str(t) for t in trusted_types})
        self.timeout = timeout

    def _run(self, request: dict[str, Any], models: Mapping[str, Mapping[str, str]],
             frames: Mapping[str, Any]) -> Any:
        work = Path(tempfile.mkdtemp(prefix="mlops-model-"))
        try:
            os.chmod(work, 0o700)
            for key, files in models.items():
                _write_model(work / "models" / key, files, self.read_blob)
            for key, frame in frames.items():
                _write_arrow(work / f"{key}.arrow", frame)
            (work / "request.json").write_text(json.dumps(
                {**request, "trusted_types": self.trusted_types}))
            try:
                done = subprocess.run(
                    [sys.executable, "-m", "mlops_jlab.models.isolated_main", str(work)],
                    cwd=work, env=scrubbed_env(work), stdin=subprocess.DEVNULL,
                    capture_output=True, timeout=self.timeout, check=False)
            except subprocess.TimeoutExpired:
                raise InvalidInput(f"the model took longer than {self.timeout:.0f} s in its "
                                   "isolated process") from None
            try:
                answer = json.loads(done.stdout.decode(errors="replace").strip().splitlines()[-1])
            except (ValueError, IndexError):
                tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
                raise InvalidInput(
                    f"the model process ended with code {done.returncode} and no answer"
                    + (f": {' | '.join(tail)}" if tail else "")) from None
            if not answer.get("ok"):
                _raise(answer.get("error") or {})
            return answer.get("result")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def run_rules(self, rules: list[dict[str, Any]], model: Mapping[str, str],
                  production: Mapping[str, str] | None, X: Any, y: Any
                  ) -> list[dict[str, Any]]:
        """:func:`..registry.rules.run_rules` on the model with files ``model`` (and the
        production model's, for comparisons), in the isolated process."""
        import pandas as pd

        models = {"candidate": model}
        if production is not None:
            models["production"] = production
        frames: dict[str, Any] = {"X": X}
        if y is not None:
            frames["y"] = pd.DataFrame({"y": list(y) if not hasattr(y, "tolist")
                                        else y.tolist()})
        result = self._run({"op": "run_rules", "rules": rules}, models, frames)
        return list(result)

    def preflight(self, models: Mapping[str, Mapping[str, str]]) -> dict[str, str | None]:
        """Load each model as a serving worker would; ``{key: None}`` when it loads,
        else ``{key: the error}``."""
        if not models:
            return {}
        return dict(self._run({"op": "preflight"}, models, {}))
