"""Drift benchmark: mlops_jlab's drift engine against Evidently's DataDriftPreset.

    python benchmarks/drift.py [--quick] [--skip-evidently] [--repeat N]
                               [--evidently-repeat N] [--rows N] [--stream-rows N]

One invocation measures, on the same deterministic data set (reference and current
of ``--rows`` rows each, 20 numeric + 5 categorical columns, 5 of them shifted):

* mlops_jlab, current in memory (exact statistics) and streamed in chunks;
* Evidently 0.7.23 ``DataDriftPreset`` in its own venv (``benchmarks/.venv-evidently``,
  created on first use) through ``drift_evidently_side.py``, on the same data written
  once to parquet;
* a streamed window of ``--stream-rows`` rows (10M by default) generated chunk by
  chunk and never held whole, in a fresh subprocess that reports its peak RSS.

Each timing is a warm-up then the median of N runs of the report computation only
(data loading excluded on both sides; our side includes preparing the reference).
Prints a table and writes ``benchmarks/results/drift.json`` (``drift-quick.json``
with ``--quick``). See benchmarks/DRIFT.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # benchmark the working tree's mlops_jlab

from mlops_jlab.monitoring import DriftAccumulator, DriftReference, drift_report  # noqa: E402

EVIDENTLY_SPEC = "evidently==0.7.23"
EVIDENTLY_FALLBACK = "evidently>=0.7,<0.8"
EVIDENTLY_EXTRA = ["pandas<3", "pyarrow"]  # Evidently 0.7.23 does not import on pandas 3
EVIDENTLY_VENV = HERE / ".venv-evidently"
RESULTS = HERE / "results"
SEED = 20240605
TARGET_RATIO = 20.0
TARGET_RSS_MB = 1024.0

NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
SHIFTED = ["num_00", "num_01", "num_02", "cat_0", "cat_1"]

_CAT1_LEVELS = [f"c{i:02d}" for i in range(12)]
_CAT3_LEVELS = [f"z{i:02d}" for i in range(30)]


def log(message: str) -> None:
    print(f"[drift-bench] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- data
def make_frame(rows: int, shifted: bool, seed: int) -> pd.DataFrame:
    """``rows`` rows of the benchmark data: reference (``shifted=False``) or current.

    Shifted in the current data, modest but real: ``num_00`` mean +0.2 sd, ``num_01``
    scale x1.25, ``num_02`` exponential scale x1.2, ``cat_0`` frequencies
    (.40/.30/.20/.10 -> .28/.30/.20/.22), ``cat_1`` one level of 12 from 8.3% to 20%.
    Unshifted: normal, log-normal, uniform, gamma, Student-t, Poisson, binary,
    a column with 5% missing, 3- and 30-level categories and a yes/no column with 3%
    missing. Every column has its own random stream, so any slice is reproducible.
    """
    gens = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(25)]
    g = iter(gens)
    out: dict[str, Any] = {}
    out["num_00"] = next(g).normal(0.2 if shifted else 0.0, 1.0, rows)
    out["num_01"] = next(g).normal(5.0, 1.25 if shifted else 1.0, rows)
    out["num_02"] = next(g).exponential(1.2 if shifted else 1.0, rows)
    out["num_03"] = next(g).normal(100.0, 15.0, rows)
    out["num_04"] = next(g).lognormal(0.0, 0.5, rows)
    out["num_05"] = next(g).uniform(-1.0, 1.0, rows)
    out["num_06"] = next(g).gamma(2.0, 2.0, rows)
    out["num_07"] = next(g).standard_t(5, rows)
    out["num_08"] = next(g).poisson(4.0, rows).astype(np.float64)
    out["num_09"] = next(g).integers(0, 2, rows).astype(np.float64)
    gen = next(g)
    with_missing = gen.normal(0.0, 1.0, rows)
    with_missing[gen.random(rows) < 0.05] = np.nan
    out["num_10"] = with_missing
    for i in range(11, 20):
        out[f"num_{i:02d}"] = next(g).normal(float(i), 1.0 + i / 10, rows)
    p0 = [0.28, 0.30, 0.20, 0.22] if shifted else [0.40, 0.30, 0.20, 0.10]
    out["cat_0"] = _choice(next(g), ["a", "b", "c", "d"], p0, rows)
    p1 = np.full(12, 1 / 12)
    if shifted:
        p1 = np.full(12, 0.8 / 11)
        p1[3] = 0.2
    out["cat_1"] = _choice(next(g), _CAT1_LEVELS, p1, rows)
    out["cat_2"] = _choice(next(g), ["red", "green", "blue"], [0.5, 0.3, 0.2], rows)
    zipf = 1 / np.arange(1, 31)
    out["cat_3"] = _choice(next(g), _CAT3_LEVELS, zipf / zipf.sum(), rows)
    gen = next(g)
    yes_no = _choice(gen, ["yes", "no"], [0.35, 0.65], rows).astype(object)
    yes_no[gen.random(rows) < 0.03] = None
    out["cat_4"] = yes_no
    return pd.DataFrame(out)


def _choice(gen: np.random.Generator, levels: list[str], p: Any, rows: int) -> np.ndarray:
    codes = np.searchsorted(np.cumsum(p) / np.sum(p), gen.random(rows), side="right")
    return np.asarray(levels, dtype=object)[np.minimum(codes, len(levels) - 1)]


def stream_chunks(rows: int, chunk_rows: int, seed: int) -> Iterator[pd.DataFrame]:
    """The shifted data, ``rows`` rows generated ``chunk_rows`` at a time."""
    for index, start in enumerate(range(0, rows, chunk_rows)):
        yield make_frame(min(chunk_rows, rows - start), shifted=True, seed=seed + 1 + index)


# ---------------------------------------------------------------------------- timing
def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """Warm-up once, then the median of ``repeat`` timed runs (seconds)."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def detection(flagged: list[str]) -> dict[str, Any]:
    """Shifted columns caught and unshifted columns flagged."""
    caught = [c for c in SHIFTED if c in flagged]
    false = [c for c in flagged if c not in SHIFTED]
    return {"flagged": sorted(flagged), "caught": len(caught), "shifted": len(SHIFTED),
            "false_positives": false, "ok": len(caught) == len(SHIFTED) and not false}


_EVIDENTLY_METHODS = {"ks": "K-S p_value", "wasserstein": "Wasserstein distance (normed)",
                      "jensenshannon": "Jensen-Shannon distance",
                      "chisquare": "chi-square p_value"}


def agreement(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Largest gap between our statistic and Evidently's where both ran the same test."""
    gaps = {col: abs(mine["statistic"] - theirs[col]["value"])
            for col, mine in ours.items()
            if col in theirs and mine["statistic"] is not None
            and theirs[col]["method"] == _EVIDENTLY_METHODS.get(mine["test"])}
    worst = max(gaps, key=lambda c: gaps[c]) if gaps else None
    return {"same_test_columns": len(gaps), "max_abs_gap": gaps[worst] if worst else None,
            "column": worst}


def rss_mb() -> float:
    """Peak resident set size of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------- Evidently
def ensure_evidently_venv() -> Path:
    """Create benchmarks/.venv-evidently with Evidently if missing; return its python."""
    py = EVIDENTLY_VENV / "bin" / "python"
    if py.exists():
        probe = subprocess.run([str(py), "-c", "import evidently"], capture_output=True)
        if probe.returncode == 0:
            return py
    log(f"creating {EVIDENTLY_VENV} with pip install {EVIDENTLY_SPEC!r} (one-time)")
    subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
    (EVIDENTLY_VENV / ".gitignore").write_text("*\n")  # keep the venv out of git and ruff
    pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, EVIDENTLY_SPEC, *EVIDENTLY_EXTRA])
    if done.returncode != 0:
        log(f"{EVIDENTLY_SPEC} unavailable: falling back to {EVIDENTLY_FALLBACK!r}")
        subprocess.run([*pip, EVIDENTLY_FALLBACK, *EVIDENTLY_EXTRA], check=True)
    return py


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame, repeat: int) -> dict[str, Any]:
    """Evidently's side in its venv, on the same data written once to parquet."""
    py = ensure_evidently_venv()
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        ref_path, cur_path = Path(tmp) / "reference.parquet", Path(tmp) / "current.parquet"
        reference.to_parquet(ref_path)
        current.to_parquet(cur_path)
        cmd = [str(py), str(HERE / "drift_evidently_side.py"), "--reference", str(ref_path),
               "--current", str(cur_path), "--numeric", ",".join(NUMERIC),
               "--categorical", ",".join(CATEGORICAL), "--repeat", str(repeat)]
        log(f"Evidently: warm-up + {repeat} runs")
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"Evidently side failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- 10M stream
def stream_child(rows: int, chunk_rows: int, reference_rows: int,
                 workers: int | None) -> dict[str, Any]:
    """Run in a fresh process: stream ``rows`` generated rows, report time and peak RSS."""
    reference = DriftReference.from_frame(make_frame(reference_rows, shifted=False, seed=SEED))
    baseline = rss_mb()
    acc = DriftAccumulator(reference, workers=workers)
    engine = generate = 0.0
    chunks = stream_chunks(rows, chunk_rows, SEED + 1000)
    while True:
        start = time.perf_counter()
        chunk = next(chunks, None)
        generate += time.perf_counter() - start
        if chunk is None:
            break
        start = time.perf_counter()
        acc.update(chunk)
        engine += time.perf_counter() - start
        del chunk
    start = time.perf_counter()
    report = acc.report()
    engine += time.perf_counter() - start
    return {"rows": rows, "chunk_rows": chunk_rows, "chunks": acc.chunks,
            "engine_s": engine, "generate_s": generate,
            "rows_per_s": rows / engine if engine else None,
            "peak_rss_mb": rss_mb(), "rss_after_reference_mb": baseline,
            "detection": detection(report.drifted_columns),
            "max_wasserstein_bound": max((c.bounds[1] - c.statistic for c in report.columns
                                          if c.bounds and c.statistic is not None),
                                         default=0.0)}


def run_stream_child(rows: int, chunk_rows: int, reference_rows: int,
                     workers: int | None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--stream-child",
           "--stream-rows", str(rows), "--chunk-rows", str(chunk_rows),
           "--rows", str(reference_rows)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    log(f"streaming {rows:,} rows in chunks of {chunk_rows:,} (fresh process)")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"stream run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--rows", type=int, default=None, help="reference = current rows")
    parser.add_argument("--stream-rows", type=int, default=None)
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None, help="our timed runs")
    parser.add_argument("--evidently-repeat", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None,
                        help="threads of our engine (default: CPUs, up to 4; 1 = serial)")
    parser.add_argument("--stream-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rows = args.rows or (20_000 if args.quick else 200_000)
    stream_rows = args.stream_rows or (200_000 if args.quick else 10_000_000)
    chunk_rows = args.chunk_rows or (20_000 if args.quick else 250_000)
    if args.stream_child:
        print(json.dumps(stream_child(stream_rows, chunk_rows, rows, args.workers)))
        return 0
    repeat = args.repeat or (1 if args.quick else 5)
    ev_repeat = args.evidently_repeat or (1 if args.quick else 3)

    log(f"generating {rows:,} reference + {rows:,} current rows x 25 columns")
    reference = make_frame(rows, shifted=False, seed=SEED)
    current = make_frame(rows, shifted=True, seed=SEED + 1)

    ours = measure_ours(reference, current, repeat, args.workers)
    evidently: dict[str, Any] | None = None
    if not args.skip_evidently:
        evidently = run_evidently(reference, current, ev_repeat)
        evidently["detection"] = detection(evidently["flagged"])
        evidently["agreement"] = agreement(ours["exact"]["statistics"], evidently["columns"])
    del reference, current
    big = run_stream_child(stream_rows, chunk_rows, rows, args.workers)

    table = build_table(rows, ours, evidently, big, quick=args.quick)
    print(render(table))
    out = {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "data": {"rows": rows, "numeric": len(NUMERIC), "categorical": len(CATEGORICAL),
                 "shifted": SHIFTED, "seed": SEED},
        "ours": ours, "evidently": evidently, "stream": big, "table": table,
    }
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / ("drift-quick.json" if args.quick else "drift.json")
    target.write_text(json.dumps(out, indent=2))
    log(f"wrote {target}")
    return 0


def measure_ours(reference: pd.DataFrame, current: pd.DataFrame, repeat: int,
                 workers: int | None) -> dict[str, Any]:
    """Our engine on the in-memory data: exact, then streamed in 10 chunks."""
    rows = len(current)
    stream_chunk = max(rows // 10, 1)
    log(f"mlops_jlab exact: warm-up + {repeat} runs")
    exact_s, exact_runs, exact = timed(
        lambda: drift_report(reference, current, workers=workers), repeat)
    log(f"mlops_jlab streamed ({stream_chunk:,}-row chunks): warm-up + {repeat} runs")
    streamed_s, streamed_runs, streamed = timed(
        lambda: drift_report(reference, (current.iloc[i:i + stream_chunk]
                                         for i in range(0, rows, stream_chunk)),
                             workers=workers), repeat)
    ours = {"exact": {"median_s": exact_s, "runs_s": exact_runs,
                      "detection": detection(exact.drifted_columns),
                      "tests": sorted({c.test for c in exact.columns}),
                      "statistics": {c.column: {"test": c.test, "statistic": c.statistic}
                                     for c in exact.columns}},
            "streamed": {"median_s": streamed_s, "runs_s": streamed_runs,
                         "chunk_rows": stream_chunk,
                         "detection": detection(streamed.drifted_columns),
                         "same_decisions_as_exact": [c.drifted for c in exact.columns]
                         == [c.drifted for c in streamed.columns]}}
    return ours


def build_table(rows: int, ours: dict[str, Any], evidently: dict[str, Any] | None,
                big: dict[str, Any], quick: bool = False) -> list[dict[str, str]]:
    """Rows of the printed table (with ``quick`` sizes the speed target is not judged)."""
    ev_s = evidently["median_s"] if evidently else None
    table = []
    for key, title in (("exact", "in memory (exact)"), ("streamed", "streamed (10 chunks)")):
        mine = ours[key]["median_s"]
        ratio = ev_s / mine if ev_s else None
        table.append({"scenario": f"drift {rows:,} x 25, {title}",
                      "evidently": f"{ev_s:.2f} s" if ev_s else "skipped",
                      "ours": f"{mine:.3f} s", "ratio": f"{ratio:.1f}x" if ratio else "-",
                      "target": f">= {TARGET_RATIO:.0f}x",
                      "met": "n/a (quick)" if quick and ratio else
                      ("yes" if ratio >= TARGET_RATIO else "NO") if ratio else "-"})
    ev_det = evidently["detection"] if evidently else None
    for key in ("exact", "streamed"):
        det = ours[key]["detection"]
        table.append({
            "scenario": f"detection ({key}): shifted caught, unshifted flagged",
            "evidently": (f"{ev_det['caught']}/5, {len(ev_det['false_positives'])}"
                          if ev_det else "skipped"),
            "ours": f"{det['caught']}/5, {len(det['false_positives'])}", "ratio": "-",
            "target": "5/5, 0", "met": "yes" if det["ok"] else "NO"})
    ok = big["detection"]["ok"] and big["peak_rss_mb"] <= TARGET_RSS_MB
    table.append({
        "scenario": f"stream {big['rows']:,} x 25 ({big['chunks']} chunks of "
                    f"{big['chunk_rows']:,})",
        "evidently": "-",
        "ours": f"{big['engine_s']:.1f} s ({big['rows_per_s'] / 1e6:.2f}M rows/s), peak RSS "
                f"{big['peak_rss_mb']:.0f} MB, {big['detection']['caught']}/5, "
                f"{len(big['detection']['false_positives'])}",
        "ratio": "-", "target": f"RSS <= {TARGET_RSS_MB:.0f} MB, 5/5, 0",
        "met": "yes" if ok else "NO"})
    return table


def render(table: list[dict[str, str]]) -> str:
    head = ["scenario", "Evidently", "mlops_jlab", "ratio", "target", "met?"]
    keys = ["scenario", "evidently", "ours", "ratio", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row[k] for k in keys) + " |" for row in table]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
