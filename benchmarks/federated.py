"""Federated vs centralized training on bundled datasets split non-IID by a column.

    python benchmarks/federated.py [--quick] [--rounds N] [--seeds N] [--no-flower]

For each dataset (breast_cancer split by ``mean radius`` into 3 sites, wine by
``alcohol`` into 3 sites, breast_cancer by ``mean texture`` into 5 sites) and model
(``logistic``, ``sgd``, ``mlp``, each without and with DP noise), ``mlops.federated``
runs FedAvg on the in-process engine with ``compare_centralized=True``: the same model,
scaler, starting weights and number of passes trained on the pooled rows and scored on
the same held-out rows. Reported: federated and centralized held-out accuracy, the gap
(centralized - federated), seconds per round. Means over ``--seeds`` seeds (each seed
changes the sites' train/held-out splits and the shuffles). Then one Flower simulation
(Ray) of the first configuration measures startup and seconds per round on that engine.

Every run uses a fresh store in a temporary folder. Prints a table; writes
``benchmarks/results/federated.json`` (``federated-quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
RESULTS = HERE / "results"

DP = {"clip": 1.0, "noise_multiplier": 0.5}


def datasets(quick: bool) -> list[tuple[str, object, str, int]]:
    from sklearn.datasets import load_breast_cancer, load_wine

    cancer = load_breast_cancer(as_frame=True).frame
    wine = load_wine(as_frame=True).frame
    out = [("breast_cancer", cancer, "mean radius", 3), ("wine", wine, "alcohol", 3)]
    if not quick:
        out.append(("breast_cancer", cancer, "mean texture", 5))
    return out


def _fresh_store(folder: Path) -> None:
    import mlops_jlab as mlops

    for var in [k for k in os.environ if k.startswith("MLOPS_JLAB_")]:
        del os.environ[var]
    os.environ["MLOPS_JLAB_HOME"] = str(folder)
    mlops.configure(home=str(folder))


def measure(quick: bool, rounds: int, seeds: int, tmp: Path) -> list[dict[str, object]]:
    import mlops_jlab as mlops
    from mlops_jlab.federation import split_by_column
    from mlops_jlab.federation.sites import label_distribution

    _fresh_store(tmp / "store")
    rows: list[dict[str, object]] = []
    models = ["logistic", "sgd", "mlp"]
    for name, frame, column, count in datasets(quick):
        sites = split_by_column(frame, column, "target", sites=count)  # type: ignore[arg-type]
        spread = label_distribution(sites, "target")
        shares = (spread.drop(columns="rows").T / spread["rows"]).T
        for model in models:
            for dp in (None, DP):
                fed, cen, per_round = [], [], []
                for seed in range(seeds):
                    result = mlops.federated(sites, target="target", model=model,
                                             rounds=rounds, dp=dp, engine="local",
                                             seed=seed, compare_centralized=True,
                                             experiment=f"bench-{name}")
                    fed.append(result.final_score)
                    cen.append(result.centralized["accuracy"])  # type: ignore[index]
                    per_round.append(result.timings["round_s"])
                rows.append({
                    "dataset": name, "split": f"{column} ({count} sites)", "model": model,
                    "dp": dp is not None, "rounds": rounds, "seeds": seeds,
                    "federated": round(statistics.mean(fed), 4),
                    "federated_sd": round(statistics.pstdev(fed), 4),
                    "centralized": round(statistics.mean(cen), 4),
                    "gap": round(statistics.mean(c - f for c, f in zip(cen, fed,
                                                                       strict=True)), 4),
                    "round_ms": round(1000 * statistics.median(per_round), 1),
                    "label_share_range": round(float((shares.max() - shares.min()).max()),
                                               3)})
                print(_line(rows[-1]), flush=True)
    return rows


def flower_timing(rounds: int, tmp: Path) -> dict[str, object]:
    """One Flower simulation of breast_cancer / logistic: startup and per-round cost."""
    import resource

    import mlops_jlab as mlops
    from mlops_jlab.federation import split_by_column
    from mlops_jlab.federation.flower import flower_available

    if not flower_available():
        return {"error": "flwr[simulation] not installed"}
    from sklearn.datasets import load_breast_cancer

    _fresh_store(tmp / "store-flower")
    sites = split_by_column(load_breast_cancer(as_frame=True).frame, "mean radius",
                            "target", sites=3)
    started = time.perf_counter()
    flower = mlops.federated(sites, target="target", model="logistic", rounds=rounds,
                             engine="flower")
    wall = time.perf_counter() - started
    local = mlops.federated(sites, target="target", model="logistic", rounds=rounds,
                            engine="local")
    return {"rounds": rounds, "wall_s": round(wall, 2),
            "startup_s": round(flower.timings["startup_s"], 2),
            "round_ms": round(1000 * flower.timings["round_s"], 1),
            "local_round_ms": round(1000 * local.timings["round_s"], 1),
            "same_accuracy_as_local": flower.final_score == local.final_score,
            "driver_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                       / 1024, 1)}


def _line(row: dict[str, object]) -> str:
    return (f"| {row['dataset']} | {row['split']} | {row['model']} | "
            f"{'yes' if row['dp'] else 'no'} | {row['federated']:.4f} ± "
            f"{row['federated_sd']:.3f} | {row['centralized']:.4f} | {row['gap']:+.4f} | "
            f"{row['round_ms']} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds, 1 seed, no Flower")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--no-flower", action="store_true")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 10)
    seeds = args.seeds or (1 if args.quick else 3)
    print("| dataset | split | model | DP | federated acc | centralized acc | gap | "
          "ms/round |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="mlops-bench-fed-") as folder:
        tmp = Path(folder)
        rows = measure(args.quick, rounds, seeds, tmp)
        flower = (None if args.quick or args.no_flower
                  else flower_timing(rounds, tmp))
    if flower is not None:
        print(f"\nflower engine: {json.dumps(flower)}")
    gaps = [abs(float(r["gap"])) for r in rows if not r["dp"]]  # type: ignore[arg-type]
    print(f"\nlargest |gap| without DP: {max(gaps):.4f}")
    facts = {"rows": rows, "flower": flower, "dp": DP, "rounds": rounds, "seeds": seeds,
             "quick": args.quick, "python": platform.python_version(),
             "platform": platform.platform(), "cpus": os.cpu_count(),
             "load_average": os.getloadavg(),
             "date": dt.datetime.now(dt.timezone.utc).isoformat()}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("federated-quick.json" if args.quick else "federated.json")
    out.write_text(json.dumps(facts, indent=2, default=str))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
