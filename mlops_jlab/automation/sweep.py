"""Parameter sweeps: one notebook, one child run per combination, executed on Dask.

``sweep(notebook, grid, parallel=2)`` starts a parent run, then runs the notebook once per
combination of the grid with papermill, each execution a child run. The executions are
Dask tasks: on a LocalCluster of ``parallel`` worker processes by default, or on an
existing Dask scheduler (``scheduler="tcp://host:8786"``), where the workers must reach
the same store (a shared database, or a team server through ``MLOPS_JLAB_URI``). The
notebook's bytes travel with each task, so workers need no shared file system. A failed
child is recorded and reported; it never stops the others.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InvalidInput
from ..tracking import environment as env
from .grid import combinations
from .notebook_run import enclosing_run_id, first_line

_configured: tuple[Any, ...] | None = None


def _store_settings(backend: Any) -> dict[str, str]:
    """The backend's settings as :func:`mlops_jlab.configure` takes them."""
    from ..config import store_attributes

    s = backend.settings
    out = {k: str(getattr(s, k)) for k in store_attributes(s)}
    if not s.remote:  # in team mode the token decides who acts
        out["user"] = s.user
    return out


def _use_store(settings: Mapping[str, str]) -> None:
    """Point this (worker) process at the sweep's store, once."""
    global _configured
    from ..client import api

    key = tuple(sorted(settings.items()))
    if _configured != key:
        api.configure(**settings)
        _configured = key


def run_child(notebook: bytes, name: str, source_path: str, params: dict[str, Any],
              settings: dict[str, str], parent_run_id: str, experiment: str | None,
              index: int, timeout: float | None, kernel_name: str | None) -> dict[str, Any]:
    """One combination, as a Dask task: the notebook (the file itself when this worker
    sees it unchanged, else a copy of its bytes) executed as a child run."""
    import hashlib

    from .notebook_run import run_notebook

    _use_store(settings)
    with tempfile.TemporaryDirectory(prefix="mlops-sweep-") as tmp:
        path = Path(source_path)
        same = path.is_file() and env.file_sha256(path) == hashlib.sha256(notebook).hexdigest()
        if not same:
            path = Path(tmp) / name
            path.write_bytes(notebook)
        result = run_notebook(path, params, output=Path(tmp) / f"out-{index}.ipynb",
                              experiment=experiment, parent_run_id=parent_run_id,
                              name=f"{Path(name).stem}[{index}]",
                              tags={"mlops.sweep": parent_run_id,
                                    "mlops.sweep_index": str(index)},
                              cwd=str(path.parent), timeout=timeout,
                              kernel_name=kernel_name)
    return {"index": index, **result.to_dict()}


@dataclass
class SweepResult:
    """The outcome of a sweep: the parent run, one row per child, the chosen metric."""

    parent_run_id: str
    notebook: str
    grid: dict[str, list[Any]]
    children: pd.DataFrame
    metric: str | None
    goal: str
    seconds: float
    workers: int

    @property
    def failed(self) -> pd.DataFrame:
        """The children that did not finish, with their errors."""
        return self.children[self.children["status"] != "finished"]

    @property
    def best(self) -> pd.Series | None:
        """The finished child with the best metric (None without a metric)."""
        if not self.metric or f"metrics.{self.metric}" not in self.children:
            return None
        done = self.children[self.children["status"] == "finished"]
        column = done[f"metrics.{self.metric}"].dropna()
        if column.empty:
            return None
        at = column.idxmax() if self.goal == "max" else column.idxmin()
        return self.children.loc[at]

    def figure(self) -> Any:
        """The metric against the parameters (plotly)."""
        from .sweep_figure import sweep_figure

        return sweep_figure(self)

    def summary(self) -> str:
        """One line: combinations, failures, time, best."""
        n, bad = len(self.children), len(self.failed)
        text = (f"sweep {self.parent_run_id[:8]}: {n} combination(s), {n - bad} finished, "
                f"{bad} failed, {self.seconds:.1f} s on {self.workers} worker(s)")
        best = self.best
        if best is not None:
            text += (f"; best {self.metric} = {best[f'metrics.{self.metric}']:.4g} with "
                     + ", ".join(f"{k}={_plain(best[f'params.{k}'])!r}" for k in self.grid))
        return text

    def table(self) -> pd.DataFrame:
        """The per-child table shown to users (params, metric, status, run, error)."""
        cols = [f"params.{k}" for k in self.grid]
        if self.metric and f"metrics.{self.metric}" in self.children:
            cols.append(f"metrics.{self.metric}")
        cols += ["status", "seconds", "run_id", "error"]
        out = self.children[[c for c in cols if c in self.children]].copy()
        out["error"] = out["error"].map(lambda e: first_line(e, 200) if isinstance(e, str) else "")
        return out.rename(columns=lambda c: c.split(".", 1)[-1])

    def _repr_html_(self) -> str:
        from html import escape

        return (f"<p><b>{escape(self.summary())}</b></p>"
                + self.table().to_html(index=False, na_rep="—", float_format="{:.4g}".format))

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        display(HTML(self._repr_html_()))
        from ..widgets.theme import figure_bundle

        display(figure_bundle(self.figure()), raw=True)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for display)."""
    return value.item() if hasattr(value, "item") else value


def _cluster(parallel: int, scheduler: str | None) -> tuple[Any, Any, int]:
    """A Dask client: on ``scheduler`` when given, else on a LocalCluster of
    ``parallel`` single-threaded worker processes. Returns (client, cluster, workers)."""
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler, timeout="20s")
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        return client, None, workers
    cluster = LocalCluster(n_workers=parallel, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    return Client(cluster), cluster, parallel


def sweep(notebook: str | os.PathLike[str], grid: Mapping[str, Sequence[Any]], *,
          parallel: int = 2, scheduler: str | None = None, experiment: str | None = None,
          metric: str | None = None, goal: str = "max", name: str | None = None,
          timeout: float | None = None, kernel_name: str | None = None,
          progress: bool = True) -> SweepResult:
    """Run ``notebook`` once per combination of ``grid`` on Dask; see the module doc.

    ``metric`` is the child metric to summarise (default: the first one the children
    logged), ``goal`` ``"max"`` or ``"min"`` picks the best child. The parent run stores
    the summary table (``sweep/summary.csv``) and chart (``sweep/summary.json``).
    """
    from ..client import api

    path = Path(notebook)
    if not path.is_file() or path.suffix != ".ipynb":
        raise InvalidInput(f"no such notebook: {str(path)!r}")
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise InvalidInput(f"parallel must be a positive integer, got {parallel!r}")
    if goal not in ("max", "min"):
        raise InvalidInput(f"goal must be 'max' or 'min', got {goal!r}")
    combos = combinations(grid)
    b = api.backend()
    data = path.read_bytes()
    parent = b.create_run(
        experiment=experiment, name=name or f"sweep-{path.stem}",
        params={"grid": json.dumps({k: list(v) for k, v in grid.items()}, default=str),
                "combinations": len(combos)},
        tags={**api.preset_tags(), "mlops.runner": "sweep"},
        source={"kind": "sweep", "notebook_abspath": str(path.resolve()),
                "notebook_hash": env.file_sha256(path)},
        environment=env.environment(), parent_run_id=enclosing_run_id())
    b.log_artifact(parent.id, str(path), "source")
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    client = cluster = None
    try:
        client, cluster, workers = _cluster(parallel, scheduler)
        settings = _store_settings(b)
        futures = {client.submit(run_child, data, path.name, str(path.resolve()), combo,
                                 settings, parent.id, experiment or parent.experiment_name,
                                 i, timeout, kernel_name, key=f"sweep-{parent.id}-{i}",
                                 pure=False): (i, combo) for i, combo in enumerate(combos)}
        rows = _collect(client, futures, progress)
    except BaseException as exc:
        b.end_run(parent.id, status="killed" if isinstance(exc, KeyboardInterrupt)
                  else "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    result = SweepResult(parent_run_id=parent.id, notebook=str(path),
                         grid={k: list(v) for k, v in grid.items()},
                         children=_frame(rows, list(grid)), metric=None, goal=goal,
                         seconds=time.perf_counter() - started, workers=workers)
    result.metric = metric or _first_metric(result.children)
    _record(b, result)
    return result


def _collect(client: Any, futures: dict[Any, tuple[int, dict[str, Any]]],
             progress: bool) -> list[dict[str, Any]]:
    from distributed import as_completed

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(futures), desc="sweep", unit="run")
    rows = []
    for future in as_completed(list(futures)):
        index, combo = futures[future]
        try:
            rows.append(future.result())
        except Exception as exc:  # the task itself broke (worker lost, store unreachable)
            rows.append({"index": index, "run_id": None, "status": "failed",
                         "parameters": combo, "metrics": {}, "seconds": None,
                         "error": f"{type(exc).__name__}: {exc}"})
        if bar is not None:
            bar.update(1)
            bad = sum(r["status"] != "finished" for r in rows)
            bar.set_postfix(failed=bad)
    if bar is not None:
        bar.close()
    return sorted(rows, key=lambda r: r["index"])


def _frame(rows: list[dict[str, Any]], keys: list[str]) -> pd.DataFrame:
    records = []
    for r in rows:
        rec: dict[str, Any] = {"index": r["index"], "run_id": r.get("run_id"),
                               "status": r["status"], "seconds": r.get("seconds"),
                               "error": r.get("error")}
        for k in keys:
            rec[f"params.{k}"] = (r.get("parameters") or {}).get(k)
        for k, v in sorted((r.get("metrics") or {}).items()):
            rec[f"metrics.{k}"] = v
        records.append(rec)
    return pd.DataFrame.from_records(records)


def _first_metric(children: pd.DataFrame) -> str | None:
    names = [c[len("metrics."):] for c in children.columns if c.startswith("metrics.")]
    return names[0] if names else None


def _record(b: Any, result: SweepResult) -> None:
    """The summary on the parent run: counts and best value, table and chart; finished
    when at least one child finished, failed otherwise."""
    children = result.children
    failed = len(result.failed)
    tags = {"mlops.sweep_failed": str(failed), "mlops.sweep_finished":
            str(len(children) - failed)}
    if result.metric:
        tags["mlops.sweep_metric"] = result.metric
    b.set_tags(result.parent_run_id, tags)
    best = result.best
    if best is not None and result.metric:
        b.metrics.append((result.parent_run_id, f"best_{result.metric}",
                          float(best[f"metrics.{result.metric}"]), 0,
                          time.time_ns() // 1_000_000))
        b.set_tags(result.parent_run_id, {"mlops.sweep_best_run": str(best["run_id"])})
    b.log_artifact_bytes(result.parent_run_id, "sweep/summary.csv",
                         result.table().to_csv(index=False).encode())
    b.log_artifact_bytes(result.parent_run_id, "sweep/summary.json",
                         result.figure().to_json().encode())
    b.metrics.flush()
    if failed == len(children):
        b.end_run(result.parent_run_id, status="failed",
                  error=f"every one of the {failed} combination(s) failed; first error: "
                        f"{children['error'].dropna().iloc[0] if failed else ''}")
    else:
        b.end_run(result.parent_run_id, status="finished",
                  error=(f"{failed} of {len(children)} combination(s) failed"
                         if failed else None))
