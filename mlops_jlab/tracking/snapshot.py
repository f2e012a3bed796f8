"""The notebook a run stored when it started: ``mlops_jlab.start_run`` (and so
``%%mlops_train`` and papermill runs) copies the kernel's notebook file into the run's
artifacts under ``source/<name>.ipynb``. This module says which artifact that is and
reads it back (read permission of the run's experiment, path and hash checked)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import NotFound, RuleViolation
from .service import TrackingService

#: where ``start_run`` stores the notebook copy among a run's artifacts
SNAPSHOT_FOLDER = "source/"


def stored_notebook(artifacts: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The artifact entry (``path``, ``sha256``, ``size``) of the run's notebook copy
    among its artifacts (the first ``source/*.ipynb`` by path), or None."""
    return next((a for a in sorted(artifacts, key=lambda a: str(a.get("path")))
                 if str(a.get("path", "")).startswith(SNAPSHOT_FOLDER)
                 and str(a["path"]).endswith(".ipynb")), None)


@dataclass(frozen=True)
class NotebookSnapshot:
    """A run's stored notebook: where it is stored, its content and what the run's
    source recorded about the file when the run started."""

    run_id: str
    artifact: str  # the artifact path, e.g. source/train.ipynb
    sha256: str
    size: int
    stored_at: int | None  # epoch ms when the copy was stored
    source: dict[str, Any]  # the run's source facts (notebook_abspath, notebook_hash)
    data: bytes

    @property
    def name(self) -> str:
        """The notebook's file name (``train.ipynb``)."""
        return self.artifact.rsplit("/", 1)[-1]

    @property
    def source_hash(self) -> str | None:
        """The sha256 of the notebook file the run's source recorded, when it did."""
        value = self.source.get("notebook_hash")
        return value if isinstance(value, str) and value else None

    def describe(self) -> dict[str, Any]:
        """JSON-ready facts about the copy (everything but its content)."""
        source_hash = self.source_hash
        return {"run_id": self.run_id, "artifact": self.artifact, "name": self.name,
                "sha256": self.sha256, "size": self.size, "stored_at": self.stored_at,
                "source_hash": source_hash,
                "matches_source": None if source_hash is None else source_hash == self.sha256}


def notebook_snapshot(tracking: TrackingService, run_id: str, user: str | None,
                      artifact: str | None = None) -> NotebookSnapshot:
    """The notebook run ``run_id`` stored (its source copy, or the ``.ipynb`` artifact
    at ``artifact``), as ``user`` may read it.

    :class:`NotFound` for an unknown run or a run without a stored notebook,
    :class:`PermissionDenied` when ``user`` may not read the run's experiment,
    :class:`RuleViolation` when the stored bytes no longer match their sha256."""
    run = tracking.get_run(run_id, user=user)  # read permission of the experiment
    if artifact is not None:
        entry = next((a for a in run.artifacts if a.get("path") == artifact
                      and artifact.endswith(".ipynb")), None)
        if entry is None:
            raise NotFound(f"run {run_id} has no stored notebook {artifact!r}",
                           run_id=run_id, artifact=artifact)
    else:
        entry = stored_notebook(run.artifacts)
    if entry is None:
        raise NotFound(f"run {run_id} has no stored notebook: it was not started from a "
                       "notebook, or the notebook file could not be read when it started",
                       run_id=run_id)
    # the path checked as it comes and as it was stored, with the row's time
    blob = tracking.artifact_blob(run_id, entry["path"], user=user)
    path, sha256 = blob["path"], blob["sha256"]
    data = tracking.artifacts.read_bytes(sha256)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise RuleViolation(f"the stored notebook {path!r} of run {run_id} does not match "
                            "its sha256: the artifact store was altered", run_id=run_id)
    return NotebookSnapshot(run_id=run_id, artifact=path, sha256=sha256,
                            size=int(blob["size"]), stored_at=blob["created_at"],
                            source=dict(run.source or {}), data=bytes(data))
