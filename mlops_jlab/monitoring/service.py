"""Monitoring service: drift of a deployment's traffic against its training data,
drift history, ground-truth feedback joined to logged predictions, and live performance.

The reference of a deployment is the training dataset recorded on the run of the model
version it serves (its profile: per-column statistics and a bounded sample). The current
window is read from the prediction log in chunks, so a long window never sits in memory.
"""

from __future__ import annotations

import builtins
import math
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, insert, select

from ..errors import InvalidInput, RuleViolation
from ..registry.service import RegistryService
from ..serving.pii import PiiPolicy
from ..serving.service import ServingService
from ..store import Database
from ..store import schema as s
from ..tracking.service import TrackingService
from .drift import drift_report_stream
from .reference import DriftReference
from .report import DriftReport

_UNITS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
LOG_PAGE = 2_000  # prediction-log rows read per query
MAX_FEEDBACK = 100_000


def parse_duration(text: str, what: str = "window") -> int:
    """``"90s"``, ``"15m"``, ``"1h"``, ``"2d"``, ``"1w"`` as milliseconds."""
    match = _DURATION.match(str(text))
    if not match or float(match.group(1)) <= 0:
        raise InvalidInput(f"{what} {text!r} is not a duration such as 30m, 1h or 7d",
                           field=what)
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def now_ms() -> int:
    return int(time.time() * 1000)


class MonitoringService:
    """Drift, feedback and performance of deployments."""

    def __init__(self, db: Database, tracking: TrackingService, registry: RegistryService,
                 serving: ServingService) -> None:
        self.db = db
        self.tracking = tracking
        self.registry = registry
        self.serving = serving
        self._references: dict[tuple[Any, ...], DriftReference] = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- reference
    def reference(self, model: str, version: int | str) -> tuple[int, DriftReference]:
        """The drift reference of a model version: the profile of the training dataset
        recorded on its run (prepared once per version)."""
        mv = self.registry.get_version(model, version)
        return int(mv.version), self._reference(mv)

    def _reference(self, mv: Any, pii: PiiPolicy | None = None,
                   deployment: str = "") -> DriftReference:
        """The reference of a model version; with ``pii``, its hashed columns are hashed
        with the deployment's key, as that deployment's prediction log stores them."""
        hashed = tuple(sorted(c for c, m in (pii.columns if pii else {}).items()
                              if m == "hash"))
        key = (mv.name, int(mv.version), deployment if hashed else "", hashed)
        with self._lock:
            cached = self._references.get(key)
        if cached is not None:
            return cached
        run = self.tracking.get_run(mv.run_id)
        datasets = sorted(run.datasets, key=lambda d: d["role"] != "train")
        if not datasets:
            raise RuleViolation(
                f"{mv.name} v{mv.version} has no training dataset on its run {run.id}: log "
                "one with run.log_dataset(X_train, 'name', role='train') (the "
                "%%mlops_train magic does it), or pass a reference DataFrame")
        chosen = datasets[0]
        record = self.tracking.get_dataset(chosen["name"], chosen["version"])
        columns = _signature_columns(mv)
        present = set((record.get("profile") or {}).get("columns") or {})
        if columns and present:
            columns = [c for c in columns if c in present]
        if hashed and pii is not None:
            record = _hashed_profile(record, hashed, pii)
        reference = DriftReference.from_profile(record, columns=columns or None)
        with self._lock:
            self._references[key] = reference
        return reference

    # ---------------------------------------------------------------- current window
    def window_bounds(self, window: str | None = None, start: int | None = None,
                      end: int | None = None) -> tuple[int | None, int | None]:
        """(start, end) in ms since the epoch; ``window`` counts back from ``end``/now."""
        if window is not None:
            end = end if end is not None else now_ms()
            start = end - parse_duration(window)
        if start is not None and end is not None and start >= end:
            raise InvalidInput("the window's start must be before its end", field="start")
        return start, end

    def window_chunks(self, deployment: str, *, start: int | None = None,
                      end: int | None = None, rows: int | None = None,
                      version: int | None = None,
                      include_shadow: bool = False) -> Iterator[pd.DataFrame]:
        """Logged inputs of a deployment as DataFrame chunks, oldest first (``rows``:
        only the newest N rows). One page of the log is in memory at a time."""
        self.serving.get(deployment)  # NotFound early
        if rows is not None and (not isinstance(rows, int) or rows < 1):
            raise InvalidInput("rows must be a positive integer", field="rows")
        log = s.prediction_log
        cond = [log.c.deployment == deployment, log.c.status == 200]
        if not include_shadow:
            cond.append(log.c.shadow == 0)
        if version is not None:
            cond.append(log.c.version == version)
        if start is not None:
            cond.append(log.c.time >= start)
        if end is not None:
            cond.append(log.c.time < end)
        if rows is not None:
            yield from self._newest_rows(and_(*cond), rows)
            return
        after = 0
        while True:
            with self.db.read() as conn:
                page = conn.execute(select(log.c.id, log.c.inputs).where(
                    and_(*cond), log.c.id > after).order_by(log.c.id).limit(LOG_PAGE)).all()
            if not page:
                return
            after = page[-1].id
            frame = _frame([p.inputs for p in page])
            if len(frame):
                yield frame

    def _newest_rows(self, cond: Any, rows: int) -> Iterator[pd.DataFrame]:
        log = s.prediction_log
        pages: list[pd.DataFrame] = []
        have, before = 0, None
        while have < rows:
            q = select(log.c.id, log.c.inputs).where(cond)
            if before is not None:
                q = q.where(log.c.id < before)
            with self.db.read() as conn:
                page = conn.execute(q.order_by(log.c.id.desc()).limit(LOG_PAGE)).all()
            if not page:
                break
            before = page[-1].id
            frame = _frame([p.inputs for p in reversed(page)])
            pages.insert(0, frame)
            have += len(frame)
        extra = have - rows
        for frame in pages:
            if extra > 0:
                cut = min(extra, len(frame))
                frame, extra = frame.iloc[cut:], extra - cut
            if len(frame):
                yield frame

    # ---------------------------------------------------------------- drift
    def drift(self, deployment: str, *, window: str | None = None, start: int | None = None,
              end: int | None = None, rows: int | None = None,
              tests: Mapping[str, Any] | None = None, drift_share: float = 0.5,
              store: bool = True, user: str | None = None) -> DriftReport:
        """Drift of a deployment's logged inputs against the training data of the
        version it serves; stored in the drift history unless ``store=False``.

        A report stored for a ``user`` takes the monitor permission on the model and is
        audited (``drift.record``); without a user it is the platform's own (the monitor
        loop's alert rules)."""
        dep = self.serving.get(deployment)
        mv = self.registry.get_version(dep.model, dep.main_version)
        version = int(mv.version)
        pii: dict[str, str] = dict(dep.desired.get("pii") or {})
        reference = self._reference(mv, self.serving.pii_policy(deployment, dep.desired),
                                    deployment)
        if window is None and start is None and end is None and rows is None:
            window = "1h"
        start, end = self.window_bounds(window, start, end)
        chunks: Iterator[pd.DataFrame] = self.window_chunks(deployment, start=start, end=end,
                                                            rows=rows)
        hidden = [c for c, mode in pii.items() if mode != "hash"]
        if hidden:  # masked values say nothing about drift; dropped ones are not there
            chunks = (frame.drop(columns=[c for c in hidden if c in frame.columns])
                      for frame in chunks)
        report = drift_report_stream(reference, chunks, tests=tests, drift_share=drift_share)
        _pii_notes(report, pii)
        report.context = {"deployment": deployment, "model": dep.model, "version": version,
                          "window": window, "start": start, "end": end, "rows": rows}
        if store:
            self._store(deployment, version, start, end, report, dep.model, user)
        return report

    def _store(self, deployment: str, version: int, start: int | None, end: int | None,
               report: DriftReport, model: str, user: str | None) -> None:
        summary = report.summary
        at = now_ms()
        with self.db.write() as conn:
            if user is not None:
                self.serving.access.require(conn, user, "monitor", ("model", model))
                self.serving.audit.append(
                    conn, user, "drift.record", "deployment", deployment, None,
                    {"version": version, "window_start": start, "window_end": end,
                     "rows": int(report.current_rows), "share": float(summary["share"])},
                    time=at)
            conn.execute(insert(s.drift_reports).values(
                deployment=deployment, version=version, computed_at=at,
                window_start=start, window_end=end, rows=int(report.current_rows),
                share=float(summary["share"]), dataset_drift=int(bool(summary["dataset_drift"])),
                report={"summary": summary, "columns": [
                    {k: v for k, v in c.to_dict().items() if k != "distribution"}
                    for c in report.columns]}))

    def drift_history(self, deployment: str, limit: int = 100) -> builtins.list[dict[str, Any]]:
        """Stored drift reports of a deployment, newest first (summary and per column)."""
        self.serving.get(deployment)
        if not isinstance(limit, int) or not 0 < limit <= 10_000:
            raise InvalidInput("limit must be an integer from 1 to 10000", field="limit")
        d = s.drift_reports
        with self.db.read() as conn:
            rows = conn.execute(select(d).where(d.c.deployment == deployment)
                                .order_by(d.c.computed_at.desc(), d.c.id.desc())
                                .limit(limit)).all()
        return [{"computed_at": r.computed_at, "version": r.version,
                 "window_start": r.window_start, "window_end": r.window_end, "rows": r.rows,
                 "share": r.share, "dataset_drift": bool(r.dataset_drift),
                 "columns": r.report.get("columns", [])} for r in rows]

    def overview(self) -> dict[str, dict[str, Any]]:
        """Per deployment: its newest recorded drift report (summary) and its open alerts
        by status, in two queries (for lists of deployments)."""
        d, a = s.drift_reports, s.alerts
        newest = select(d.c.deployment, func.max(d.c.id).label("id")).group_by(
            d.c.deployment).subquery()
        out: dict[str, dict[str, Any]] = {}
        with self.db.read() as conn:
            for r in conn.execute(select(d).join(newest, d.c.id == newest.c.id)).all():
                out.setdefault(r.deployment, {})["drift"] = {
                    "computed_at": r.computed_at, "share": r.share, "version": r.version,
                    "tested": (r.report.get("summary") or {}).get("tested"),
                    "dataset_drift": bool(r.dataset_drift), "rows": r.rows,
                    "drifted_columns": [c["column"] for c in r.report.get("columns", [])
                                        if c.get("drifted")]}
            for r in conn.execute(select(a.c.deployment, a.c.status, func.count()).where(
                    a.c.status.in_(("firing", "acknowledged"))).group_by(
                    a.c.deployment, a.c.status)).all():
                out.setdefault(r[0], {}).setdefault("alerts", {})[r[1]] = int(r[2])
        return out

    # ---------------------------------------------------------------- ground truth
    def log_feedback(self, deployment: str, request_ids: Sequence[str],
                     labels: Sequence[Any], user: str) -> dict[str, int]:
        """Store ground-truth labels by request id (one label per predicted row: a list
        for a multi-row request). A second label for a request replaces the first."""
        self.serving.get(deployment)
        if isinstance(request_ids, str) or not isinstance(request_ids, Sequence) or \
                not request_ids:
            raise InvalidInput("request_ids must be a non-empty list", field="request_ids")
        if isinstance(labels, str) or not isinstance(labels, Sequence) or \
                len(labels) != len(request_ids):
            raise InvalidInput(f"labels must be a list with one entry per request id "
                               f"({len(request_ids)})", field="labels")
        if len(request_ids) > MAX_FEEDBACK:
            raise InvalidInput(f"at most {MAX_FEEDBACK} labels per call", field="labels")
        ids = [str(r) for r in request_ids]
        if any(not r or len(r) > 64 for r in ids) or len(set(ids)) != len(ids):
            raise InvalidInput("request ids must be distinct non-empty strings of at most "
                               "64 characters", field="request_ids")
        values = [_label(v) for v in labels]
        at = now_ms()
        f = s.feedback
        dep = self.serving.get(deployment)
        with self.db.write() as conn:
            self.serving.access.require(conn, user, "monitor", ("model", dep.model))
            self.serving.audit.append(conn, user, "feedback.log", "deployment", deployment,
                                      None, {"labels": len(ids)}, time=at)
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                conn.execute(f.delete().where(f.c.deployment == deployment,
                                              f.c.request_id.in_(part)))
            conn.execute(insert(f), [
                {"deployment": deployment, "request_id": r, "label": v, "time": at,
                 "created_by": user} for r, v in zip(ids, values, strict=True)])
            matched = 0
            log = s.prediction_log
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                matched += len(conn.execute(select(log.c.request_id).where(
                    log.c.deployment == deployment, log.c.shadow == 0,
                    log.c.request_id.in_(part))).all())
        return {"stored": len(ids), "matched": matched}

    def performance(self, deployment: str, *, window: str | None = None,
                    start: int | None = None, end: int | None = None,
                    bucket: str | None = None, task: str | None = None) -> pd.DataFrame:
        """Metrics of labelled predictions per model version (shadow versions included,
        so canary and shadow versions are compared on the same live traffic), over the
        window or per ``bucket`` of time: accuracy and macro F1 for classification, RMSE
        and MAE for regression (``task``; by default regression when the labels are
        numbers that are not all whole). Columns: bucket_start, version, shadow, rows,
        then the metrics."""
        if task not in (None, "classification", "regression"):
            raise InvalidInput("task must be classification or regression", field="task")
        self.serving.get(deployment)
        start, end = self.window_bounds(window or ("7d" if start is None else None),
                                        start, end)
        step = parse_duration(bucket, "bucket") if bucket else None
        log, f = s.prediction_log, s.feedback
        q = select(log.c.version, log.c.shadow, log.c.time, log.c.outputs, f.c.label).join(
            f, and_(f.c.deployment == log.c.deployment, f.c.request_id == log.c.request_id)
        ).where(log.c.deployment == deployment)
        if start is not None:
            q = q.where(log.c.time >= start)
        if end is not None:
            q = q.where(log.c.time < end)
        with self.db.read() as conn:
            joined = conn.execute(q.order_by(log.c.time)).all()
        records: list[tuple[Any, ...]] = []
        for r in joined:
            outputs, scores = _outputs(r.outputs)
            labels = r.label if isinstance(r.label, list) else [r.label]
            if outputs is None or len(outputs) != len(labels):
                continue  # a shadow that failed, or a label of the wrong shape
            b = (r.time // step) * step if step else start
            row_scores = scores if scores is not None and len(scores) == len(labels) \
                else [None] * len(labels)
            records.extend((b, r.version, bool(r.shadow), p, y, sc)
                           for p, y, sc in zip(outputs, labels, row_scores, strict=True)
                           if y is not None)
        columns = ["bucket_start", "version", "shadow", "rows"]
        if not records:
            return pd.DataFrame(columns=columns)
        frame = pd.DataFrame(records, columns=["bucket_start", "version", "shadow",
                                               "prediction", "label", "scores"])
        numeric = task == "regression" or (task is None and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in frame["label"])
            and not _all_integral(frame["label"]))
        out = []
        for (b, v, sh), group in frame.groupby(["bucket_start", "version", "shadow"],
                                               dropna=False, sort=True):
            out.append({"bucket_start": b, "version": int(v), "shadow": bool(sh),
                        "rows": len(group), **_metrics(group, numeric)})
        return pd.DataFrame(out)


def _hashed_profile(record: Mapping[str, Any], hashed: Sequence[str],
                    pii: PiiPolicy) -> dict[str, Any]:
    """A dataset record whose ``hashed`` columns hold hashes (sample and top values) and
    are categorical, so the reference matches a log that stores those columns hashed."""
    body = dict(record.get("profile") or {})
    sample = dict(body.get("sample") or {})
    names = [str(c) for c in sample.get("columns") or []]
    data = [list(row) for row in sample.get("data") or []]
    for column in hashed:
        if column not in names:
            continue
        i = names.index(column)
        for row, value in zip(data, pii.hash_column(row[i] for row in data), strict=True):
            row[i] = value
    stats = dict(body.get("columns") or {})
    for column in hashed:
        info = dict(stats.get(column) or {})
        top = info.get("top") or []
        kept = {k: info[k] for k in ("dtype", "count", "missing", "distinct") if k in info}
        stats[column] = {**kept, "kind": "categorical", "top": [
            {"value": h, "count": t.get("count")}
            for t, h in zip(top, pii.hash_column(t.get("value") for t in top), strict=True)]}
    return {**record, "profile": {**body, "columns": stats,
                                  "sample": {**sample, "data": data}}}


def _pii_notes(report: DriftReport, pii: Mapping[str, str]) -> None:
    """Say on each PII column how the log stores it (masked and dropped: not tested)."""
    for column in report.columns:
        mode = pii.get(column.column)
        if mode == "hash":
            column.notes.append("PII hashed in the prediction log: categories compared "
                                "as hashes")
        elif mode in ("mask", "drop"):
            column.notes = [f"PII {'masked' if mode == 'mask' else 'dropped'} in the "
                            "prediction log: drift not tested"]


def _signature_columns(mv: Any) -> list[str]:
    return [c["name"] for c in (mv.signature or {}).get("inputs", [])]


def _frame(inputs: list[Any]) -> pd.DataFrame:
    """Logged inputs (column-split, or records from older logs) as one DataFrame."""
    parts: list[pd.DataFrame] = []
    for item in inputs:
        if isinstance(item, dict) and "columns" in item and "data" in item:
            parts.append(pd.DataFrame(item["data"], columns=item["columns"]))
        elif isinstance(item, list) and item:
            parts.append(pd.DataFrame.from_records(item))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _label(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (list, tuple)):
        return [_label(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput("labels must be finite", field="labels")
    if value is not None and not isinstance(value, (str, int, float, bool)):
        raise InvalidInput(f"a label must be a number, a string, a boolean or a list of "
                           f"them, not {type(value).__name__}", field="labels")
    return value


def _all_integral(series: pd.Series) -> bool:
    return all(float(v).is_integer() for v in series)


def _metrics(group: pd.DataFrame, numeric: bool) -> dict[str, float]:
    if numeric:
        err = pd.to_numeric(group["prediction"], errors="coerce") - group["label"].astype(float)
        return {"rmse": float(np.sqrt(np.nanmean(err ** 2))),
                "mae": float(np.nanmean(np.abs(err)))}
    from sklearn.metrics import accuracy_score, f1_score

    y, p = group["label"].astype(str), group["prediction"].astype(str)
    out = {"accuracy": float(accuracy_score(y, p)),
           "f1": float(f1_score(y, p, average="macro", zero_division=0))}
    auc = _roc_auc(group)
    if auc is not None:
        out["roc_auc"] = auc
    return out


def _outputs(logged: Any) -> tuple[list[Any] | None, list[Any] | None]:
    """Predictions (and probabilities, when the request asked for them) of a log row."""
    if isinstance(logged, list):
        return logged, None
    if isinstance(logged, dict) and isinstance(logged.get("predictions"), list):
        probabilities = logged.get("probabilities")
        return logged["predictions"], probabilities if isinstance(probabilities, list) else None
    return None, None


def _roc_auc(group: pd.DataFrame) -> float | None:
    """ROC AUC of a binary classifier, when every labelled row has its probabilities
    (clients asked ``proba``) and both classes are present. The classes are taken in
    sorted order, as scikit-learn's ``classes_`` are."""
    scores = group["scores"].tolist()
    if any(not isinstance(sc, list) or len(sc) != 2 for sc in scores):
        return None
    classes = sorted({str(v) for v in group["label"]} | {str(v) for v in group["prediction"]})
    if len(classes) != 2 or group["label"].astype(str).nunique() < 2:
        return None
    from sklearn.metrics import roc_auc_score

    positive = (group["label"].astype(str) == classes[1]).to_numpy()
    return float(roc_auc_score(positive, [float(sc[1]) for sc in scores]))
