"""Reproducible performance benchmarks: mlops_jlab against MLflow, in one invocation.

    python benchmarks/run.py [--quick] [--only NAME[,NAME]] [--skip-mlflow] [--keep] [--profile]

MLflow runs in its own venv (``benchmarks/.venv-mlflow``, created on first use with
``pip install "mlflow==3.17.*"``) through ``mlflow_side.py``; mlops_jlab runs with this
interpreter through ``mlops_side.py``. Every scenario of every side is a fresh subprocess
with a fresh store in a temporary folder, and the sides run one after the other, never
at the same time. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads as w  # noqa: E402

MLFLOW_SPEC = "mlflow==3.17.*"
MLFLOW_VENV = HERE / ".venv-mlflow"
RESULTS = HERE / "results"
SIDE_TIMEOUT = 1800  # seconds per side and scenario


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    both: bool  # False: mlops_jlab only, judged on an absolute threshold
    kind: str  # "throughput" (higher is better), "latency" (lower is better)
    target: float  # ratio for both-sided scenarios, threshold (ms) for ours-only
    target_text: str
    # "" (default): ratio ours/MLflow for both-sided, ``ours < target`` for ours-only;
    # "abs": ours' value <= target (same unit), MLflow shown for reference;
    # "inproc": ours' value <= target x ours' in-process predict of the same rows;
    # "zero_failures": no failed request during the scenario
    rule: str = ""


SCENARIOS = [
    Scenario(
        "log_metric",
        "log_metric calls/s (1 run, sequential, through run end)",
        True,
        "throughput",
        100,
        ">= 100x",
    ),
    Scenario(
        "log_batch",
        "batched metric points/s (10 keys/step, through run end)",
        True,
        "throughput",
        10,
        ">= 10x",
    ),
    Scenario("runs", "runs/s (10 params, 5 tags, 5 metrics each)", True, "throughput", 4, ">= 4x"),
    Scenario(
        "search",
        "search_runs over {runs:,} runs (filter + order by metric, 100 rows)",
        True,
        "latency",
        20,
        ">= 20x faster",
    ),
    Scenario(
        "rest_runs",
        "REST GET runs first page (limit 100) at {runs:,} runs, median",
        False,
        "latency",
        50,
        "< 50 ms",
    ),
    Scenario(
        "magic",
        "%%mlops_train overhead on a cell that trains nothing, median",
        False,
        "latency",
        50,
        "< 50 ms",
    ),
    Scenario(
        "register",
        "register a run's model as a new version + set alias, versions/s",
        True,
        "throughput",
        5,
        ">= 5x",
    ),
    Scenario(
        "load_alias",
        "load models:/bench-model@champion to a predict-ready model + predict 5 rows, warm, median",
        True,
        "latency",
        3,
        ">= 3x faster",
    ),
    Scenario(
        "serve_lr",
        "serve LR (breast_cancer), single-row p50, 1 keep-alive connection, 1 worker",
        True,
        "latency",
        1.5,
        "p50 <= 1.5 ms",
        "abs",
    ),
    Scenario(
        "serve_lr_2",
        "serve LR, req/s with 2 workers (MLflow --workers 2, ours replicas=2)",
        True,
        "throughput",
        10,
        ">= 10x",
    ),
    Scenario(
        "serve_rf",
        "serve RandomForest(100), single-row p50, 1 worker",
        True,
        "latency",
        1.3,
        "<= 1.3x in-process predict",
        "inproc",
    ),
    Scenario(
        "serve_batch",
        "serve LR, {rows:,}-row request p50, 1 worker",
        True,
        "latency",
        2,
        "<= 2x in-process predict",
        "inproc",
    ),
    Scenario(
        "cold_start",
        "cold start: start serving -> ready, median",
        True,
        "latency",
        1.5,
        "<= 1.5 s",
        "abs",
    ),
    Scenario(
        "rolling_update",
        "3 rolling updates (1->2 replicas, v1->v2, 2->1) under keep-alive load",
        False,
        "throughput",
        0,
        "0 failed",
        "zero_failures",
    ),
    Scenario(
        "crash",
        "kill -9 one of 2 replicas under keep-alive load",
        False,
        "throughput",
        0,
        "0 failed",
        "zero_failures",
    ),
]
BY_NAME = {s.name: s for s in SCENARIOS}
SERVING = {"serve_lr", "serve_lr_2", "serve_rf", "serve_batch", "rolling_update", "crash"}


def ensure_wrk() -> None:
    """The serving scenarios' load generator: install Debian's wrk if missing (as root);
    without it they fall back to a Python threaded client (a lower ceiling)."""
    if shutil.which("wrk"):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk (apt-get install -y wrk)")
        for cmd in (["apt-get", "install", "-y", "-q", "wrk"],
                    ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if shutil.which("wrk"):
                return
    log("note: wrk is not installed (and cannot be installed here); throughput comes from "
        "a Python threaded client and is not comparable with wrk figures")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- MLflow venv


def mlflow_python() -> Path:
    return MLFLOW_VENV / "bin" / "python"


def ensure_mlflow_venv() -> str:
    """Create benchmarks/.venv-mlflow with MLflow if missing; return MLflow's version."""
    py = mlflow_python()
    probe = [str(py), "-c", "import mlflow, sqlalchemy, alembic; print(mlflow.__version__)"]
    if py.exists():
        out = subprocess.run(probe, capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.strip()
        log(f"existing {MLFLOW_VENV} cannot import mlflow; reinstalling")
    log(f"creating {MLFLOW_VENV} with pip install {MLFLOW_SPEC!r} (one-time, ~1 min)")
    subprocess.run([sys.executable, "-m", "venv", str(MLFLOW_VENV)], check=True)
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", MLFLOW_SPEC],
        check=True,
    )
    out = subprocess.run(probe, capture_output=True, text=True, check=True)
    return out.stdout.strip()


# ---------------------------------------------------------------- running sides


def side_env(side: str, tmp: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_JLAB_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if side == "mlflow":
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlflow.db"
        # artifacts: the sqlite store defaults to ./mlruns, and cwd is tmp
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        env["DO_NOT_TRACK"] = "true"
        env["GIT_PYTHON_REFRESH"] = "quiet"
    else:
        env["MLOPS_JLAB_HOME"] = tmp
        # benchmark the working tree's mlops_jlab even before `pip install -e .`
        env["PYTHONPATH"] = os.pathsep.join(
            [str(HERE.parent)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
    return env


def run_side(side: str, scenario: str, sizes: dict[str, int], *, keep: bool, profile: bool) -> dict:
    tmp = tempfile.mkdtemp(prefix=f"mlops-bench-{side}-{scenario}-")
    if side == "mlflow":
        cmd = [str(mlflow_python()), str(HERE / "mlflow_side.py")]
    else:
        cmd = [sys.executable]
        if profile:
            RESULTS.mkdir(parents=True, exist_ok=True)
            cmd += ["-m", "cProfile", "-o", str(RESULTS / f"profile-{scenario}.pstats")]
        cmd += [str(HERE / "mlops_side.py")]
    cmd += [scenario, json.dumps(sizes)]
    t0 = time.perf_counter()
    # own session: on a time-out or Ctrl-C the side and everything it started (the
    # jupyter server of rest_runs) are ended together, by process group
    proc = subprocess.Popen(
        cmd,
        cwd=tmp,
        env=side_env(side, tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=SIDE_TIMEOUT)
    except BaseException as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        if isinstance(exc, subprocess.TimeoutExpired):
            return {"error": f"timed out after {SIDE_TIMEOUT} s"}
        raise
    finally:
        if keep:
            log(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    wall = time.perf_counter() - t0
    for line in reversed(stdout.splitlines()):
        if line.startswith(w.RESULT_MARKER):
            result = json.loads(line[len(w.RESULT_MARKER) :])
            result["wall_seconds"] = wall
            return result
    tail = (stderr or stdout or "").strip().splitlines()[-15:]
    return {"error": f"exit {proc.returncode}: " + "\n".join(tail)}


# ---------------------------------------------------------------- reporting


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value * 1000:,.1f} ms" if value < 1 else f"{value:,.2f} s"
    if unit == "ms":
        return f"{value:,.1f} ms"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"


def judge(sc: Scenario, mlf: dict | None, ours: dict | None) -> dict:
    row: dict = {"scenario": sc.name, "target": sc.target_text, "ratio": None, "met": None}
    ok = lambda r: r is not None and "error" not in r  # noqa: E731
    if sc.rule:
        if sc.both and ok(mlf) and ok(ours) and ours["value"] > 0 and mlf["value"] > 0:
            row["ratio"] = (ours["value"] / mlf["value"] if sc.kind == "throughput"
                            else mlf["value"] / ours["value"])
        if ok(ours):
            if sc.rule == "abs":
                row["met"] = ours["value"] <= sc.target
            elif sc.rule == "inproc":
                row["vs_inproc"] = ours["value"] / ours["inproc"]["median_ms"]
                row["met"] = row["vs_inproc"] <= sc.target
            elif sc.rule == "zero_failures":
                row["met"] = ours["failed"] == 0
        for side, r in (("MLflow", mlf), ("mlops_jlab", ours)):
            if ok(r) and r.get("predictions_ok") is False:
                log(f"[{sc.name}] WARNING: {side} answered other labels than in-process predict")
                row.setdefault("check_failed", []).append(side)
            tp = r.get("throughput") if ok(r) else None
            if tp and (tp["non2xx"] or tp["socket_errors"]):
                log(f"[{sc.name}] WARNING: {side} load: {tp['non2xx']} non-2xx, "
                    f"{tp['socket_errors']} socket errors")
        return row
    if sc.both:
        if ok(mlf) and ok(ours) and ours["value"] > 0 and mlf["value"] > 0:
            if sc.kind == "throughput":
                row["ratio"] = ours["value"] / mlf["value"]
            else:
                row["ratio"] = mlf["value"] / ours["value"]
            row["met"] = row["ratio"] >= sc.target
    elif ok(ours):
        row["met"] = ours["value"] < sc.target
    for side, r in (("MLflow", mlf), ("mlops_jlab", ours)):
        # each side counts what it stored after the clock stopped: nothing may be lost
        if ok(r) and "check" in r and r["check"]["stored"] != r["check"]["expected"]:
            log(
                f"[{sc.name}] WARNING: {side} stored {r['check']['stored']}, "
                f"expected {r['check']['expected']}"
            )
            row.setdefault("check_failed", []).append(side)
    if ok(mlf) and ok(ours) and "predictions" in mlf:
        # the same model, loaded back on both sides, must predict the same labels
        row["same_answer"] = mlf["predictions"] == ours.get("predictions")
        if not row["same_answer"]:
            log(
                f"[{sc.name}] WARNING: predictions differ: MLflow {mlf['predictions']}, "
                f"mlops_jlab {ours.get('predictions')}"
            )
    if ok(mlf) and ok(ours) and "top5" in mlf:
        # both sides searched the same data: they must return the same runs
        row["same_answer"] = mlf["top5"] == ours.get("top5") and mlf["rows"] == ours["rows"]
        if not row["same_answer"]:
            log(
                f"[{sc.name}] WARNING: answers differ: MLflow {mlf['rows']} rows "
                f"{mlf['top5']}, mlops_jlab {ours['rows']} rows {ours.get('top5')}"
            )
    return row


def cell(r: dict | None) -> str:
    if r is None:
        return "skipped"
    if "error" in r:
        return "ERROR"
    if "failed" in r:
        return f"{r['failed']:,} failed / {r['value'] + r['failed']:,} requests"
    text = fmt(r["value"], r["unit"])
    if "latency" in r and r["unit"] == "ms":
        text += f" (p95 {r['latency']['p95_ms']:,.1f})"
    if "throughput" in r and r["unit"] == "ms":
        text += f"; {r['throughput']['rps']:,.0f} req/s"
    if "inproc" in r:
        text += f"; in-process {r['inproc']['median_ms']:,.2f} ms"
    return text


def serving_note(sc: Scenario, row: dict) -> str:
    """Extra words in the title of a serving row."""
    ours = row.get("ours") or {}
    notes = []
    if sc.name in ("serve_lr", "serve_rf") and "throughput" in ours:
        tp = ours["throughput"]
        notes.append(f"req/s: wrk -c{tp['conns']} {tp['seconds']:g} s"
                     if tp["tool"] == "wrk" else "req/s: Python client (no wrk)")
    if "vs_inproc" in row:
        notes.append(f"ours = {row['vs_inproc']:,.1f}x in-process")
    if sc.name == "serve_batch" and "arrow" in ours and "inproc" in ours:
        arrow = ours["arrow"]["latency"]["p50_ms"]
        notes.append(f"both JSON dataframe_split; ours with an Arrow IPC body: {arrow:,.1f} ms "
                     f"p50 = {arrow / ours['inproc']['median_ms']:,.1f}x in-process")
    if sc.name == "cold_start" and "first_deploy_in_process_seconds" in ours:
        notes.append(f"ours: `deploy()` returned; replica spawn->ready "
                     f"{statistics.median(ours['replica_ready_seconds']):.2f} s; "
                     f"MLflow: `mlflow models serve` -> /ping 200")
    if sc.name == "crash" and "replica_restarted" in ours:
        notes.append("killed replica restarted" if ours["replica_restarted"]
                     else "killed replica NOT restarted yet")
        load = ours.get("load", {})
        if load.get("retry"):
            notes.append(f"client retries a connection error once, as mlops_jlab's "
                         f"clients do; {load.get('connection_errors', 0)} request(s) met one "
                         f"(lost by a client that never retries)")
    if sc.name == "rolling_update" and ours.get("load", {}).get("versions"):
        v = ours["load"]["versions"]
        notes.append("answers by version " + ", ".join(f"v{k}: {n:,}" for k, n in v.items()))
    return f" ({'; '.join(notes)})" if notes else ""


def render_table(rows: list[dict], sizes: dict) -> str:
    lines = [
        "| scenario | MLflow | mlops_jlab | ratio | target | met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        sc = BY_NAME[row["scenario"]]
        title = sc.title.format(**sizes[sc.name])
        if sc.name in SERVING or sc.name == "cold_start":
            title += serving_note(sc, row)
        if sc.name == "rest_runs" and row["ours"] and "p95_ms" in row["ours"]:
            title += f" (p95 {row['ours']['p95_ms']:.1f} ms)"
        mlf_row = row.get("mlflow")
        if sc.name == "register" and mlf_row and "alt_value" in mlf_row:
            alt = mlf_row["alt_value"]
            ours_v = row["ours"]["value"] if row["ours"] and "value" in row["ours"] else None
            title += f" (MLflow from `model_info.model_uri`: {fmt(alt, 'versions/s')}" + (
                f", ratio {ours_v / alt:,.1f}x)" if ours_v and alt > 0 else ")"
            )
        ratio = (
            f"{row['ratio']:,.1f}x" if row["ratio"] is not None else ("—" if not sc.both else "n/a")
        )
        met = {True: "yes", False: "**no**", None: "n/a"}[row["met"]]
        if sc.rule and row["ratio"] is not None:
            ratio += " faster" if sc.kind == "latency" else ""
        mlf = cell(row["mlflow"]) if sc.both else "—"
        lines.append(
            f"| {title} | {mlf} | {cell(row['ours'])} | {ratio} | {row['target']} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--quick", action="store_true", help="tiny sizes: a smoke run, numbers mean nothing"
    )
    ap.add_argument("--only", help="comma-separated scenarios: " + ", ".join(BY_NAME))
    ap.add_argument("--skip-mlflow", action="store_true", help="run the mlops_jlab side only")
    ap.add_argument("--keep", action="store_true", help="keep the temporary stores")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="run the mlops_jlab side under cProfile (results/profile-NAME.pstats); "
        "its timings are then inflated",
    )
    args = ap.parse_args(argv)

    names = [n.strip() for n in args.only.split(",")] if args.only else list(BY_NAME)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        ap.error(f"unknown scenario(s) {unknown}; choose from {list(BY_NAME)}")
    mode = "quick" if args.quick else "full"
    sizes = w.SIZES[mode]

    if any(n in SERVING for n in names):
        ensure_wrk()
    mlflow_version = None
    if not args.skip_mlflow and any(BY_NAME[n].both for n in names):
        mlflow_version = ensure_mlflow_venv()
        if not mlflow_version.startswith("3.17."):
            log(f"note: MLflow {mlflow_version} (wanted {MLFLOW_SPEC})")
        log(f"MLflow {mlflow_version} in {MLFLOW_VENV}")

    rows, failed = [], False
    started = time.time()
    for name in names:
        sc = BY_NAME[name]
        mlf = ours = None
        if sc.both and not args.skip_mlflow:
            log(f"[{name}] MLflow ...")
            mlf = run_side("mlflow", name, sizes[name], keep=args.keep, profile=False)
            log(f"[{name}] MLflow: {cell(mlf)}" + (f"\n{mlf['error']}" if "error" in mlf else ""))
        log(f"[{name}] mlops_jlab ...")
        ours = run_side("mlops", name, sizes[name], keep=args.keep, profile=args.profile)
        log(
            f"[{name}] mlops_jlab: {cell(ours)}" + (f"\n{ours['error']}" if "error" in ours else "")
        )
        failed |= any(r is not None and "error" in r for r in (mlf, ours))
        row = judge(sc, mlf, ours)
        row.update(mlflow=mlf, ours=ours, sizes=sizes[name])
        rows.append(row)

    table = render_table(rows, sizes)
    if mode == "quick":
        table += "\n\n_quick sizes: a smoke run; the numbers and ratios mean nothing._"
    print(table)

    try:
        commit = (
            subprocess.run(
                ["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
            ).stdout.strip()
            or None
        )
    except OSError:
        commit = None
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "mode": mode,
        "scenarios": names,
        "mlflow_version": mlflow_version,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "git_commit": commit,
        "elapsed_seconds": time.time() - started,
        "argv": sys.argv[1:] if argv is None else argv,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = (
        "latest"
        if mode == "full" and not args.only and not args.skip_mlflow
        else ("quick" if mode == "quick" else "partial")
    )
    (RESULTS / f"{stem}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(
        f"# mlops_jlab benchmarks ({mode})\n\n"
        f"{meta['date']}, Python {meta['python']}, MLflow {mlflow_version or '—'}, "
        f"{meta['cpu_count']} CPUs, {meta['platform']}, commit {commit or '—'}\n\n{table}\n"
    )
    log(f"wrote {RESULTS / (stem + '.json')} and .md ({meta['elapsed_seconds']:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
