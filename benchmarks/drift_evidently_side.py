"""Evidently's side of the drift benchmark; runs in benchmarks/.venv-evidently.

    python drift_evidently_side.py --reference ref.parquet --current cur.parquet \
        --numeric a,b --categorical c,d [--repeat 3]

Reads both parquet files (not timed), then times ``Report([DataDriftPreset()]).run``
with the column types declared up front: a warm-up run, then the median of
``--repeat`` runs. Prints one JSON line: timings, Evidently's version and the columns
it flagged (``p < threshold`` for p-value methods, ``value >= threshold`` otherwise).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently import __version__ as evidently_version
from evidently.presets import DataDriftPreset


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--numeric", required=True)
    parser.add_argument("--categorical", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    reference = pd.read_parquet(args.reference)
    current = pd.read_parquet(args.current)
    definition = DataDefinition(numerical_columns=args.numeric.split(","),
                                categorical_columns=args.categorical.split(","))

    def run() -> tuple[float, float, object]:
        start = time.perf_counter()
        cur = Dataset.from_pandas(current, data_definition=definition)
        ref = Dataset.from_pandas(reference, data_definition=definition)
        built = time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(cur, ref)
        done = time.perf_counter()
        return done - built, done - start, snapshot

    run()  # warm-up
    report_times, total_times = [], []
    snapshot = None
    for _ in range(args.repeat):
        report_s, total_s, snapshot = run()
        report_times.append(report_s)
        total_times.append(total_s)
    flagged, methods = [], {}
    for metric in snapshot.dict()["metrics"]:  # type: ignore[union-attr]
        config = metric["config"]
        if not config.get("type", "").endswith("ValueDrift"):
            continue
        method, threshold, value = config["method"], config["threshold"], metric["value"]
        methods[config["column"]] = {"method": method, "threshold": threshold, "value": value}
        drifted = value < threshold if "p_value" in method else value >= threshold
        if drifted:
            flagged.append(config["column"])
    print(json.dumps({
        "version": evidently_version,
        "median_s": statistics.median(report_times),
        "runs_s": report_times,
        "median_with_dataset_s": statistics.median(total_times),
        "flagged": flagged,
        "columns": methods,
    }))


if __name__ == "__main__":
    main()
