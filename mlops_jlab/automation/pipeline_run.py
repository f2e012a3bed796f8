"""Running a pipeline: each step a child run of the pipeline's run, in dependency order.

Independent steps run side by side (``parallel``). A failed step stops the steps that
depend on it (recorded as ``skipped``); the others go on. The pipeline's run stores
``pipeline/steps.json``: per step its status, run, cache key and outputs.

Running a pipeline again after a failure resumes it: a step whose last execution
finished with the same notebook bytes and the same resolved parameters is reused (its
run and outputs), so execution starts again at the failed step. ``resume=False`` runs
every step.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import InvalidInput, MlopsError
from ..tracking import environment as env
from .notebook_run import enclosing_run_id, first_line
from .pipeline import Pipeline, Step, cache_key, load_pipeline, resolve

STEPS_ARTIFACT = "pipeline/steps.json"


@dataclass
class PipelineResult:
    """What a pipeline run did, step by step."""

    pipeline: str
    run_id: str
    steps: pd.DataFrame  # step, status, run_id, seconds, error, reused_from
    resumed_from: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        """True when every step finished (or was reused)."""
        return bool(self.steps["status"].isin(["finished", "reused"]).all())

    @property
    def status(self) -> str:
        """``finished`` or ``failed``."""
        return "finished" if self.ok else "failed"

    def summary(self) -> str:
        """One line per outcome."""
        counts = self.steps["status"].value_counts().to_dict()
        parts = ", ".join(f"{n} {s}" for s, n in counts.items())
        resumed = f" (resumed from {self.resumed_from[:8]})" if self.resumed_from else ""
        return (f"pipeline {self.pipeline} run {self.run_id[:8]}{resumed}: {parts} "
                f"in {self.seconds:.1f} s")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (CLI, scheduler history)."""
        return {"run_id": self.run_id, "status": self.status, "pipeline": self.pipeline,
                "resumed_from": self.resumed_from, "seconds": round(self.seconds, 3),
                "steps": json.loads(self.steps.to_json(orient="records")),
                "error": None if self.ok else self.failure()}

    def failure(self) -> str:
        """Which steps failed (first line of each error) and which were skipped."""
        bad = self.steps[self.steps["status"] == "failed"]
        skipped = self.steps[self.steps["status"] == "skipped"]["step"].tolist()
        lines = [f"step {r.step} failed: {first_line(r.error, 300)}" for r in bad.itertuples()]
        if skipped:
            lines.append("skipped: " + ", ".join(skipped))
        return "; ".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        table = self.steps.assign(error=self.steps["error"].map(
            lambda e: first_line(e, 300) if isinstance(e, str) else ""))
        return (f"<p><b>{escape(self.summary())}</b></p>"
                + table.to_html(index=False, na_rep="—"))


def _previous(b: Any, pipeline: Pipeline, experiment: str | None) -> dict[str, Any] | None:
    """The steps record of this pipeline's latest run, when that run failed."""
    try:
        page = b.search_runs(experiment, f"tags.`mlops.pipeline` = '{pipeline.name}' and "
                                         "tags.`mlops.runner` = 'pipeline'",
                             ["attributes.start_time DESC"], 5, None)
    except MlopsError:
        return None
    for run in page.runs:
        if run.status == "running":
            continue  # another execution in flight: not a base to resume from
        if run.status != "failed":
            return None
        try:
            record = json.loads(b.artifact_bytes(run.id, STEPS_ARTIFACT))
        except (MlopsError, ValueError):
            return None
        return {"run_id": run.id, "steps": record.get("steps", {})}
    return None


def run_pipeline(path: str | os.PathLike[str], parameters: Mapping[str, Any] | None = None,
                 *, parallel: int = 1, resume: bool = True, experiment: str | None = None,
                 timeout: float | None = None, progress: bool = True) -> PipelineResult:
    """Run the pipeline file at ``path`` (see :mod:`.pipeline` for the format).

    ``parameters`` override the file's pipeline parameters; ``parallel`` is how many
    independent steps may run at once. :class:`~.pipeline.PipelineError` for an
    invalid file (nothing runs).
    """
    from ..client import api

    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise InvalidInput(f"parallel must be a positive integer, got {parallel!r}")
    pipeline = load_pipeline(path, parameters)
    b = api.backend()
    experiment = experiment or pipeline.experiment
    previous = _previous(b, pipeline, experiment) if resume else None
    tags = {**api.preset_tags(), "mlops.runner": "pipeline", "mlops.pipeline": pipeline.name}
    if previous:
        tags["mlops.resumed_from"] = previous["run_id"]
    parent = b.create_run(
        experiment=experiment, name=pipeline.name,
        params={**{k: v if isinstance(v, (str, int, float, bool)) else json.dumps(v)
                   for k, v in pipeline.parameters.items()},
                "pipeline_file": str(pipeline.path)},
        tags=tags, source={"kind": "pipeline", "pipeline_abspath": str(pipeline.path),
                           "pipeline_hash": pipeline.sha256},
        environment=env.environment(), parent_run_id=enclosing_run_id())
    b.log_artifact_bytes(parent.id, f"source/{pipeline.path.name}", pipeline.text.encode())
    runner = _Runner(b, pipeline, parent.id, parent.experiment_name, previous, timeout,
                     progress)
    started = time.perf_counter()
    try:
        records = runner.run(parallel)
    except BaseException as exc:
        b.end_run(parent.id, status="killed" if isinstance(exc, KeyboardInterrupt)
                  else "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    frame = pd.DataFrame([{"step": name, "status": r["status"], "run_id": r.get("run_id"),
                           "seconds": r.get("seconds"), "error": r.get("error"),
                           "reused_from": r.get("reused_from")}
                          for name, r in records.items()])
    result = PipelineResult(pipeline=pipeline.name, run_id=parent.id, steps=frame,
                            resumed_from=previous["run_id"] if previous else None,
                            seconds=time.perf_counter() - started)
    b.log_artifact_bytes(parent.id, STEPS_ARTIFACT, json.dumps(
        {"pipeline": pipeline.name, "steps": records}, default=str, indent=2).encode())
    b.end_run(parent.id, status=result.status, error=None if result.ok else result.failure())
    return result


class _Runner:
    """Schedules the steps of one pipeline run on a thread pool."""

    def __init__(self, b: Any, pipeline: Pipeline, parent_id: str, experiment: str,
                 previous: dict[str, Any] | None, timeout: float | None,
                 progress: bool) -> None:
        self.b = b
        self.pipeline = pipeline
        self.parent_id = parent_id
        self.experiment = experiment
        self.previous = (previous or {}).get("steps", {})
        self.timeout = timeout
        self.progress = progress
        self.records: dict[str, dict[str, Any]] = {}

    def run(self, parallel: int) -> dict[str, dict[str, Any]]:
        order = self.pipeline.order()
        running: dict[Future[dict[str, Any]], str] = {}
        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="mlops-step") as pool:
            while len(self.records) < len(order):
                for name in order:
                    if name in self.records or name in running.values():
                        continue
                    step = self.pipeline.step(name)
                    blocked = [d for d in step.depends_on
                               if self.records.get(d, {}).get("status") in ("failed", "skipped")]
                    if blocked:
                        self._done(name, {"status": "skipped", "error":
                                          f"not run: step {blocked[0]!r} did not finish"})
                        continue
                    if all(d in self.records for d in step.depends_on) and \
                            len(running) < parallel:
                        running[pool.submit(self._execute, step)] = name
                if not running:
                    continue  # only skips happened this pass; look again
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    try:
                        self._done(name, future.result())
                    except Exception as exc:  # could not even start the step
                        self._done(name, {"status": "failed",
                                          "error": f"{type(exc).__name__}: {exc}"})
        return {name: self.records[name] for name in order}

    def _done(self, name: str, record: dict[str, Any]) -> None:
        self.records[name] = record
        if self.progress:
            extra = f" ({first_line(record.get('error'), 300)})" if record.get("error") else ""
            print(f"[{self.pipeline.name}] {name}: {record['status']}{extra}", flush=True)

    def _execute(self, step: Step) -> dict[str, Any]:
        from .notebook_run import run_notebook

        done = {n: r for n, r in self.records.items() if r["status"] in ("finished", "reused")}
        params = resolve(step.parameters, self.pipeline.parameters, done)
        key = cache_key(step, params)
        before = self.previous.get(step.name) or {}
        if before.get("key") == key and before.get("status") in ("finished", "reused"):
            return {"status": "reused", "run_id": before.get("run_id"), "key": key,
                    "outputs": before.get("outputs") or {}, "parameters": params,
                    "reused_from": before.get("run_id"), "seconds": 0.0}
        result = run_notebook(step.notebook, params, experiment=self.experiment,
                              parent_run_id=self.parent_id,
                              name=f"{self.pipeline.name}/{step.name}",
                              tags={"mlops.pipeline": self.pipeline.name,
                                    "mlops.pipeline_step": step.name},
                              cwd=str(step.notebook.parent), timeout=self.timeout)
        return {"status": result.status, "run_id": result.run_id, "key": key,
                "outputs": result.outputs, "parameters": params,
                "seconds": round(result.seconds, 3), "error": result.error}
