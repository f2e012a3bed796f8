"""Several processes logging into one SQLite file at once: no "database is locked",
no lost point."""

from __future__ import annotations

import multiprocessing as mp
import os

import mlops_jlab as mlops

WORKERS = 4
RUNS_PER_WORKER = 5
POINTS_PER_RUN = 3000


def _worker(home: str, worker: int, barrier) -> None:  # type: ignore[no-untyped-def]
    os.environ["MLOPS_JLAB_HOME"] = home
    os.environ["MLOPS_JLAB_USER"] = f"worker{worker}"
    mlops.configure()
    mlops.backend().metrics.max_points = 500  # many small flushes: lots of contention
    barrier.wait()
    mlops.set_experiment("concurrent")
    for r in range(RUNS_PER_WORKER):
        with mlops.start_run(name=f"w{worker}-r{r}", params={"worker": worker}) as run:
            for step in range(POINTS_PER_RUN):
                run.log_metric("loss", step * 0.001, step=step)
                if step % 1000 == 0:
                    run.set_tag("progress", step)


def test_four_processes_log_into_one_sqlite_file(tmp_path):
    home = str(tmp_path / "shared")
    mlops.configure(home=home)  # the test's user, first in the store: admin
    for w in range(WORKERS):
        mlops.grant(f"worker{w}", "contributor")
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    procs = [ctx.Process(target=_worker, args=(home, w, barrier)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(240)
    assert [p.exitcode for p in procs] == [0] * WORKERS

    mlops.configure(home=home)
    df = mlops.search_runs("concurrent", limit=1000)
    assert len(df) == WORKERS * RUNS_PER_WORKER
    assert set(df["status"]) == {"finished"}
    assert sorted(df["user"].unique()) == [f"worker{w}" for w in range(WORKERS)]
    for run_id in df["run_id"]:
        history = mlops.get_run(run_id).metric_history("loss")
        assert history["step"].tolist() == list(range(POINTS_PER_RUN))
    assert (df["metrics.loss"] == (POINTS_PER_RUN - 1) * 0.001).all()
