"""The ``retrain`` action of an alert: run the serving version's training notebook again
with papermill, register what it trains as a candidate version, validate it.

- The notebook is the copy stored on the version's run when it trained (lineage), so
  the code that runs is the code that made the model.
- It runs in its own process (``python -m papermill``) with the rule's parameters and
  ``MLOPS_JLAB_RUN_TAGS`` marking its runs with the alert's id, acting as the person who
  saved the rule (never as a platform actor): in team mode through the REST API with a
  token delegated to them and no store credentials (:mod:`..governance.delegation`).
- The newest run it made with a model becomes a new version of the deployment's model
  (unless the notebook registered one itself), tagged as the alert's candidate.
- The candidate is validated with the model's rules on the deployment's labelled live
  traffic (ground truth sent as feedback), or on a dataset the action names. It is never
  given an alias: promotion stays with the registry's rules and approvals.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import and_, select

from ..governance.delegation import Delegation, Job
from ..governance.job_account import copy_job_file, end_session
from ..governance.roles import is_system
from ..store import schema as s
from ..store.paths import is_inside
from ..tracking.snapshot import stored_notebook

NOTEBOOK_TIMEOUT = 3600
MIN_VALIDATION_ROWS = 20


class Retrainer:
    """Runs retraining for alerts (one at a time, in the caller's thread)."""

    def __init__(self, monitoring: Any, home: str | os.PathLike[str],
                 env: dict[str, str] | None = None,
                 root: str | os.PathLike[str] | None = None,
                 delegation: Delegation | None = None) -> None:
        self.monitoring = monitoring
        self.home = Path(home)
        self.env = env
        #: in team mode the notebook reaches the store only through the REST API with a
        #: token acting as the rule's owner (see :mod:`..governance.delegation`)
        self.delegation = delegation
        #: the folder a rule's ``notebook`` and ``cwd`` must stay in (the Jupyter root
        #: in the server; the working directory otherwise)
        self.root = Path(root) if root else Path.cwd()

    def inside_root(self, path: str, what: str) -> Path:
        """``path`` (relative to the root) resolved, when it stays inside the root once
        symbolic links are followed; else RuntimeError naming it."""
        full = self.root / path
        if Path(path).is_absolute() or not is_inside(self.root, full):
            raise RuntimeError(f"the action's {what} {path!r} is outside {self.root}: refused")
        return full

    def run(self, alert: dict[str, Any], action: dict[str, Any], user: str) -> dict[str, Any]:
        """Retrain for ``alert``; the outcome as a JSON-ready dict (never raises)."""
        started = time.time()
        folder = self.home / "retrain" / alert["id"]
        out: dict[str, Any] = {"status": "running", "started_at": int(started * 1000),
                               "output_notebook": str(folder / "output.ipynb")}
        try:
            out.update(self._run(alert, action, user, folder))
            out["status"] = "succeeded"
        except Exception as exc:  # reported on the alert, never raised into the loop
            out.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        out["seconds"] = round(time.time() - started, 1)
        return out

    def _run(self, alert: dict[str, Any], action: dict[str, Any], user: str,
             folder: Path) -> dict[str, Any]:
        mon = self.monitoring
        dep = mon.serving.get(alert["deployment"])
        version = mon.registry.get_version(dep.model, dep.main_version)
        run = mon.tracking.get_run(version.run_id)
        if is_system(user):
            raise RuntimeError("a retraining notebook runs as a person (the rule's owner), "
                               f"never as the platform actor {user!r}")
        base = dict(self.env if self.env is not None else os.environ)
        if self.delegation is not None:
            with self.delegation.job(user, f"retraining for alert {alert['id']}",
                                     NOTEBOOK_TIMEOUT + 600, base) as job:
                done = self._papermill(alert, action, run, folder, job,
                                       f"{dep.model} v{version.version}")
        else:
            done = self._papermill(alert, action, run, folder,
                                   Job({**base, "MLOPS_JLAB_USER": user}, None),
                                   f"{dep.model} v{version.version}")
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-6:]
            raise RuntimeError("the training notebook failed: " + " | ".join(tail))
        new_run = self._trained_run(alert["id"])
        name = action.get("register_as") or dep.model
        candidate = next((v for v in mon.registry.list_versions(name)
                          if v.run_id == new_run), None)
        if candidate is None:
            candidate = mon.registry.register(new_run, name, user)
        mon.registry.update_version(name, candidate.version, user,
                                    tags={"candidate_for_alert": alert["id"]})
        return {"run_id": new_run, "model": name, "candidate_version": candidate.version,
                "validation": self._validate(alert, action, name, candidate.version, user)}

    def _papermill(self, alert: dict[str, Any], action: dict[str, Any], run: Any,
                   folder: Path, job: Job, what: str) -> subprocess.CompletedProcess[str]:
        """Execute the training notebook (as the job's account, if it has one); the
        executed notebook ends up in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        notebook = self._notebook(action, run, what)
        env, account = job.env, job.account
        # a job account cannot write into the store's home: it works in its own folder
        # and the executed notebook is copied back
        work = Path(env["HOME"]) / "retrain" if account else folder
        work.mkdir(parents=True, exist_ok=True)
        if account:
            account.give(work)
        source, output = work / "input.ipynb", work / "output.ipynb"
        source.write_bytes(notebook)
        if account:
            (folder / "input.ipynb").write_bytes(notebook)
        env["MLOPS_JLAB_RUN_TAGS"] = json.dumps({"mlops.retrain_alert": alert["id"]})
        env["JPY_SESSION_NAME"] = str(source)  # the new run stores the notebook it ran
        workdir = (str(self.inside_root(action["cwd"], "cwd")) if action.get("cwd") else
                   os.path.dirname(run.source.get("notebook_abspath") or "") or str(work))
        if not os.path.isdir(workdir) or not is_inside(self.root, Path(workdir)):
            workdir = str(work)
        cmd = [sys.executable, "-m", "papermill", str(source), str(output),
               "-y", json.dumps(action.get("parameters") or {}), "--cwd", workdir,
               "--no-progress-bar"]
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                 **job.options)
        try:
            out, err = child.communicate(timeout=NOTEBOOK_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            child.kill()
            child.communicate()
            raise RuntimeError(f"the training notebook ran longer than {NOTEBOOK_TIMEOUT} s"
                               ) from exc
        finally:
            if account:
                end_session(child.pid)
        if account:
            copy_job_file(output, folder / "output.ipynb", account.uid)
        return subprocess.CompletedProcess(cmd, child.returncode, out, err)

    def _notebook(self, action: dict[str, Any], run: Any, what: str) -> bytes:
        """The training notebook: the action's, else the copy stored on the version's run
        (lineage), else the notebook file the run came from."""
        if action.get("notebook"):
            path = self.inside_root(action["notebook"], "notebook")
            if not path.is_file():
                raise RuntimeError(f"the action's notebook {path} does not exist")
            return path.read_bytes()
        stored = stored_notebook(run.artifacts)
        if stored is not None:
            return bytes(self.monitoring.tracking.artifacts.read_bytes(stored["sha256"]))
        original = (run.source or {}).get("notebook_abspath")
        # a run's source is what its client said: read it only inside the root (a path
        # such as the audit key file must never be read and echoed in an error)
        if original and is_inside(self.root, Path(original)) and os.path.isfile(original):
            return Path(original).read_bytes()
        raise RuntimeError(f"{what}'s run {run.id} has no stored notebook to retrain with; "
                           "name one in the rule's action (\"notebook\": \"train.ipynb\")")

    def _trained_run(self, alert_id: str) -> str:
        page = self.monitoring.tracking.search_runs(
            None, f"tags.`mlops.retrain_alert` = '{alert_id}'", "attributes.start_time DESC",
            50)
        for run in page.runs:
            paths = {a["path"] for a in self.monitoring.tracking.get_run(run.id).artifacts}
            if any(p.endswith("/manifest.json") for p in paths):
                return str(run.id)
        raise RuntimeError("the training notebook ran but logged no model "
                           "(run.log_model or %%mlops_train)")

    def _validate(self, alert: dict[str, Any], action: dict[str, Any], name: str,
                  version: int, user: str) -> dict[str, Any]:
        registry = self.monitoring.registry
        spec = action.get("validate") or {}
        if spec.get("dataset"):
            report = registry.validate_with_dataset(name, version, spec["dataset"],
                                                    spec.get("target", "target"), user)
            return {"on": f"dataset {spec['dataset']}", "passed": report.passed}
        X, y = labelled_traffic(self.monitoring, alert["deployment"])
        if len(X) < MIN_VALIDATION_ROWS:
            return {"on": "labelled live traffic", "passed": None,
                    "note": f"only {len(X)} labelled rows (need {MIN_VALIDATION_ROWS}): "
                            "not validated; send ground truth with mlops.log_feedback"}
        report = registry.validate(name, version, X, y, user, data_source={
            "labelled_traffic": alert["deployment"], "rows": len(X)})
        return {"on": f"labelled live traffic ({len(X)} rows)", "passed": report.passed}


def labelled_traffic(monitoring: Any, deployment: str,
                     limit: int = 50_000) -> tuple[pd.DataFrame, list[Any]]:
    """Inputs and ground-truth labels of a deployment's live predictions (newest first,
    up to ``limit`` rows)."""
    log, f = s.prediction_log, s.feedback
    q = select(log.c.inputs, f.c.label).join(f, and_(
        f.c.deployment == log.c.deployment, f.c.request_id == log.c.request_id)).where(
        log.c.deployment == deployment, log.c.shadow == 0, log.c.status == 200
    ).order_by(log.c.id.desc())
    frames, labels, have = [], [], 0
    with monitoring.db.read() as conn:
        for row in conn.execute(q):
            inputs = row.inputs or {}
            if not isinstance(inputs, dict) or "columns" not in inputs:
                continue
            frame = pd.DataFrame(inputs["data"], columns=inputs["columns"])
            values = row.label if isinstance(row.label, list) else [row.label]
            if len(values) != len(frame):
                continue
            frames.append(frame)
            labels.extend(values)
            have += len(frame)
            if have >= limit:
                break
    if not frames:
        return pd.DataFrame(), []
    return pd.concat(frames, ignore_index=True), labels
