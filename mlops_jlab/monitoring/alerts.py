"""Alert rules per deployment, their evaluation, and the alerts they raise.

A rule watches one signal over a window and compares it with a threshold:

=============== ============================================== =======================
kind            value                                          fires when
=============== ============================================== =======================
drift_share     share of drifted columns (drift report)        value >= threshold
column_drift    the column's test statistic                    the column drifted
metric          accuracy / f1 (or rmse / mae) of labelled      value < threshold
                live predictions of the serving version        (> for rmse / mae)
latency_p99     p99 of logged latencies, ms                    value > threshold
error_rate      share of refused requests (4xx/5xx)            value > threshold
=============== ============================================== =======================

An alert is ``firing`` → ``acknowledged`` (by someone) → ``resolved`` (the condition
cleared). While one is open, the rule updates it rather than raising another; after it
resolves, the rule stays quiet for its ``cooldown``. A new alert is posted to the rule's
``webhook`` and runs its ``action`` (``retrain``, see :mod:`.retrain`).
"""

from __future__ import annotations

import builtins
import logging
import math
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, update

from ..errors import InvalidInput, NotFound, RuleViolation
from ..governance.roles import MONITOR, is_system
from ..store import schema as s
from ..store.paths import artifact_path
from .service import MonitoringService, now_ms, parse_duration
from .webhooks import check_url, deliver

log = logging.getLogger(__name__)

KINDS = ("drift_share", "column_drift", "metric", "latency_p99", "error_rate")
METRICS = {"accuracy": "<", "f1": "<", "rmse": ">", "mae": ">"}
OPEN = ("firing", "acknowledged")
HISTORY_EVERY_MS = 5 * 60_000


def normalize_rule(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A checked rule (defaults filled in); InvalidInput names what is wrong."""
    if not isinstance(spec, Mapping):
        raise InvalidInput("a rule must be an object", field="rules")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise InvalidInput(f"rule kind must be one of {', '.join(KINDS)}, got {kind!r}",
                           field="kind")
    rule: dict[str, Any] = {"kind": kind, "window": str(spec.get("window") or "1h"),
                            "cooldown": str(spec.get("cooldown") or "30m")}
    parse_duration(rule["window"], "window")
    parse_duration(rule["cooldown"], "cooldown")
    if spec.get("rows") is not None:  # drift rules: the newest N rows instead of a time window
        rows = spec["rows"]
        if kind not in ("drift_share", "column_drift") or isinstance(rows, bool) or \
                not isinstance(rows, int) or rows < 1:
            raise InvalidInput("rows (a positive integer) applies to drift rules only",
                               field="rows")
        rule["rows"] = rows
    if spec.get("name") is not None:
        rule["name"] = str(spec["name"])[:200]
    threshold = spec.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or
                                  not isinstance(threshold, (int, float)) or
                                  not math.isfinite(threshold)):
        raise InvalidInput("threshold must be a number", field="threshold")
    if kind in ("drift_share", "error_rate"):
        if threshold is None or not 0 < threshold <= 1:
            raise InvalidInput(f"a {kind} rule needs a threshold in (0, 1]", field="threshold")
    elif kind == "latency_p99":
        if threshold is None or threshold <= 0:
            raise InvalidInput("a latency_p99 rule needs a threshold in ms > 0",
                               field="threshold")
    elif kind == "metric":
        metric = spec.get("metric")
        if metric not in METRICS:
            raise InvalidInput(f"metric must be one of {', '.join(METRICS)}", field="metric")
        if threshold is None:
            raise InvalidInput("a metric rule needs a threshold", field="threshold")
        rule["metric"] = metric
        min_rows = spec.get("min_rows", 30)
        if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
            raise InvalidInput("min_rows must be a positive integer", field="min_rows")
        rule["min_rows"] = min_rows
    elif kind == "column_drift":
        if not isinstance(spec.get("column"), str) or not spec["column"]:
            raise InvalidInput("a column_drift rule needs a column", field="column")
        rule["column"] = spec["column"]
    if threshold is not None:
        rule["threshold"] = float(threshold)
    if spec.get("webhook"):
        check_url(spec["webhook"])
        rule["webhook"] = spec["webhook"]
    action = spec.get("action")
    if action is not None:
        if not isinstance(action, Mapping) or action.get("type") != "retrain":
            raise InvalidInput("action must be {\"type\": \"retrain\", \"parameters\": {...}}",
                               field="action")
        for key in ("notebook", "cwd"):  # relative to the server's root, no way out
            if action.get(key) is not None:
                artifact_path(action[key], f"action {key}")
        params = action.get("parameters") or {}
        if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
            raise InvalidInput("action parameters must be an object", field="action")
        rule["action"] = {"type": "retrain", "parameters": dict(params),
                          **{k: action[k] for k in ("register_as", "validate", "cwd",
                                                    "notebook") if action.get(k)}}
    return rule


class AlertService:
    """Rules, evaluation and alert lifecycle; actions run on a background thread."""

    def __init__(self, monitoring: MonitoringService,
                 retrain: Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]]
                 | None = None) -> None:
        self.monitoring = monitoring
        self.db = monitoring.db
        self.retrain = retrain
        #: raises when this server may not run retraining (a team server without a job
        #: account: see governance.job_account), so a rule with an action is refused
        #: when it is saved rather than when it fires
        self.jobs_check: Callable[[str], None] | None = None
        self._actions = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlops-action")
        self._pending: list[Future[Any]] = []
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- rules
    def set_rules(self, deployment: str, rules: Sequence[Mapping[str, Any]],
                  user: str) -> builtins.list[dict[str, Any]]:
        """Replace a deployment's rules (each checked first: all or nothing)."""
        self.monitoring.serving.get(deployment)
        if isinstance(rules, (str, bytes, Mapping)) or not isinstance(rules, Sequence):
            raise InvalidInput("rules must be a list of objects", field="rules")
        checked = [(str(r.get("id") or "") if isinstance(r, Mapping) else "",
                    normalize_rule(r)) for r in rules]
        if self.jobs_check is not None and any(rule.get("action") for _, rule in checked):
            self.jobs_check("retraining on an alert")
        at = now_ms()
        access = self.monitoring.serving.access
        dep = self.monitoring.serving.get(deployment)
        with self.db.write() as conn:
            access.require(conn, user, "monitor", ("model", dep.model))
            before = [{"id": r.id, **r.spec} for r in conn.execute(select(s.alert_rules).where(
                s.alert_rules.c.deployment == deployment)).all()]
            conn.execute(s.alert_rules.delete().where(s.alert_rules.c.deployment == deployment))
            for position, (rule_id, rule) in enumerate(checked):
                conn.execute(insert(s.alert_rules).values(
                    id=rule_id if rule_id.isalnum() and len(rule_id) <= 32
                    else secrets.token_hex(8),
                    deployment=deployment, kind=rule["kind"], spec=rule, enabled=1,
                    created_at=at + position, created_by=user))  # keeps the saved order
            access.audit.append(conn, user, "alert_rules.set", "deployment", deployment,
                                {"rules": before}, {"rules": [r for _, r in checked]}, time=at)
        return self.rules(deployment)

    def rules(self, deployment: str) -> builtins.list[dict[str, Any]]:
        """A deployment's rules."""
        self.monitoring.serving.get(deployment)
        with self.db.read() as conn:
            rows = conn.execute(select(s.alert_rules).where(
                s.alert_rules.c.deployment == deployment).order_by(
                s.alert_rules.c.created_at, s.alert_rules.c.id)).all()
        return [{"id": r.id, **r.spec} for r in rows]

    # ---------------------------------------------------------------- alerts
    def alerts(self, deployment: str | None = None, status: str | None = None,
               limit: int = 200, *, user: str | None = None) -> builtins.list[dict[str, Any]]:
        """Alerts, newest first, by deployment and status (``open`` = firing or
        acknowledged); ``user``: only those of deployments whose model they may read."""
        a = s.alerts
        q = select(a)
        with self.db.read() as conn:
            hidden = self.monitoring.serving.access.hidden(conn, user, "model")
        if hidden:
            q = q.where(a.c.deployment.not_in(
                select(s.deployments.c.name).where(s.deployments.c.model.in_(hidden))))
        if deployment:
            q = q.where(a.c.deployment == deployment)
        if status == "open":
            q = q.where(a.c.status.in_(OPEN))
        elif status:
            if status not in ("firing", "acknowledged", "resolved"):
                raise InvalidInput("status must be firing, acknowledged, resolved or open",
                                   field="status")
            q = q.where(a.c.status == status)
        with self.db.read() as conn:
            rows = conn.execute(q.order_by(a.c.fired_at.desc(), a.c.id).limit(limit)).all()
        return [_alert(r) for r in rows]

    def get_alert(self, alert_id: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = conn.execute(select(s.alerts).where(s.alerts.c.id == alert_id)).first()
        if row is None:
            raise NotFound(f"alert {alert_id!r} does not exist")
        return _alert(row)

    def acknowledge(self, alert_id: str, user: str) -> dict[str, Any]:
        """Someone is on it: firing → acknowledged (a resolved alert stays resolved)."""
        with self.db.write() as conn:
            row = conn.execute(select(s.alerts).where(s.alerts.c.id == alert_id)).first()
            if row is None:
                raise NotFound(f"alert {alert_id!r} does not exist")
            if row.status == "resolved":
                raise RuleViolation(f"alert {alert_id} is already resolved")
            access = self.monitoring.serving.access
            access.require(conn, user, "monitor")
            if row.status == "firing":
                access.audit.append(conn, user, "alert.acknowledge", "deployment",
                                    row.deployment, {"alert": alert_id, "status": row.status},
                                    {"alert": alert_id, "status": "acknowledged"})
            if row.status == "firing":
                conn.execute(update(s.alerts).where(s.alerts.c.id == alert_id).values(
                    status="acknowledged", acknowledged_at=now_ms(), acknowledged_by=user,
                    updated_at=now_ms()))
        return self.get_alert(alert_id)

    # ---------------------------------------------------------------- evaluation
    def evaluate(self, deployment: str | None = None, *, user: str = MONITOR,
                 run_actions: bool = True) -> builtins.list[dict[str, Any]]:
        """Evaluate the rules of one or every active deployment; the alerts that fired,
        changed or resolved."""
        if deployment is not None:
            target = self.monitoring.serving.get(deployment)
            names = [target.name]
            if not is_system(user):  # a person asked: they must be able to deploy it
                serving = self.monitoring.serving
                with self.db.write() as conn:
                    serving.access.require(
                        conn, user, "deploy_production" if target.environment ==
                        "production" else "deploy_staging", ("model", target.model))
                    serving.audit.append(conn, user, "monitoring.evaluate", "deployment",
                                         target.name, None, {"requested": True})
        else:
            names = [d.name for d in self.monitoring.serving.list()
                     if d.status == "active"]
        changed: list[dict[str, Any]] = []
        for name in names:
            rules = self.rules(name)
            drift_cache: dict[str, Any] = {}
            for rule in rules:
                try:
                    value, firing, message = self._measure(name, rule, drift_cache)
                except (InvalidInput, NotFound, RuleViolation) as exc:
                    log.info("mlops_jlab: rule %s of %s not evaluated: %s", rule["id"], name,
                             exc)
                    continue
                if firing is None:
                    continue
                result = self._apply(name, rule, value, firing, message, user, run_actions)
                if result is not None:
                    changed.append(result)
        return changed

    def _measure(self, name: str, rule: dict[str, Any],
                 drift_cache: dict[str, Any]) -> tuple[float | None, bool | None, str]:
        kind, window, threshold = rule["kind"], rule["window"], rule.get("threshold")
        mon = self.monitoring
        if kind in ("drift_share", "column_drift"):
            rows = rule.get("rows")
            key = f"rows:{rows}" if rows else window
            report = drift_cache.get(key)
            if report is None:
                # the history holds time windows only (a newest-N-rows report would read
                # as the state of the last hour)
                report = drift_cache[key] = mon.drift(
                    name, window=None if rows else window, rows=rows,
                    store=not rows and self._history_due(name))
            span = f"the last {rows} rows" if rows else window
            if report.current_rows == 0:
                return None, None, "no traffic in the window"
            if kind == "drift_share":
                share = float(report.share)
                return share, share >= float(threshold or 0), (
                    f"{share:.0%} of columns drifted over {span} "
                    f"({', '.join(report.drifted_columns[:5]) or 'none'})")
            try:
                col = report[rule["column"]]
            except KeyError:
                raise InvalidInput(f"column {rule['column']!r} is not in the drift "
                                   "reference") from None
            if col.statistic is None:
                return None, None, col.note
            return float(col.statistic), bool(col.drifted), (
                f"column {col.column} {'drifted' if col.drifted else 'is stable'} over "
                f"{span}: {col.test} {col.statistic:.4g} (threshold {col.threshold:g})")
        if kind == "metric":
            version = mon.serving.get(name).main_version
            perf = mon.performance(name, window=window)
            if not len(perf):
                return None, None, "no labelled predictions"
            live = perf[(perf["version"] == version) & (~perf["shadow"].astype(bool))]
            metric = rule["metric"]
            if not len(live) or metric not in live or int(live["rows"].sum()) < \
                    rule.get("min_rows", 30):
                return None, None, "not enough labelled predictions"
            value = float(live[metric].iloc[0])
            limit = float(threshold or 0)
            bad = value < limit if METRICS[metric] == "<" else value > limit
            return value, bad, (f"{metric} of v{version} over {window} is {value:.4g} "
                                f"(threshold {threshold:g}, {int(live['rows'].sum())} "
                                "labelled rows)")
        start, end = mon.window_bounds(window)
        log = s.prediction_log
        with self.db.read() as conn:
            rows = conn.execute(select(log.c.latency_ms, log.c.status).where(
                log.c.deployment == name, log.c.shadow == 0, log.c.time >= start,
                log.c.time < end)).all()
        if not rows:
            return None, None, "no traffic in the window"
        if kind == "latency_p99":
            latencies = np.array([r.latency_ms for r in rows if r.status == 200], dtype=float)
            if not len(latencies):
                return None, None, "no answered request in the window"
            p99 = float(np.percentile(latencies, 99))
            return p99, p99 > float(threshold or 0), (
                f"p99 latency over {window} is {p99:.1f} ms (threshold {threshold:g} ms, "
                f"{len(latencies)} requests)")
        errors = sum(1 for r in rows if r.status != 200)
        rate = errors / len(rows)
        return rate, rate > float(threshold or 0), (
            f"{rate:.1%} of {len(rows)} requests refused over {window} "
            f"(threshold {float(threshold or 0):.1%})")

    def _history_due(self, name: str) -> bool:
        """Record a rule's drift report in the history at most every
        :data:`HISTORY_EVERY_MS` per deployment (the loop runs every minute)."""
        d = s.drift_reports
        with self.db.read() as conn:
            last = conn.execute(select(func.max(d.c.computed_at)).where(
                d.c.deployment == name)).scalar()
        return last is None or now_ms() - int(last) >= HISTORY_EVERY_MS

    def _apply(self, name: str, rule: dict[str, Any], value: float | None, firing: bool,
               message: str, user: str, run_actions: bool) -> dict[str, Any] | None:
        a = s.alerts
        at = now_ms()
        with self.db.write() as conn:
            open_row = conn.execute(select(a).where(
                a.c.rule_id == rule["id"], a.c.status.in_(OPEN))).first()
            if open_row is not None:
                if firing:
                    conn.execute(update(a).where(a.c.id == open_row.id).values(
                        value=value, message=message, updated_at=at))
                    return None
                conn.execute(update(a).where(a.c.id == open_row.id).values(
                    status="resolved", resolved_at=at, updated_at=at, value=value,
                    message=f"resolved: {message}"))
                alert_id = open_row.id
            else:
                if not firing:
                    return None
                last = conn.execute(select(a.c.resolved_at).where(
                    a.c.rule_id == rule["id"]).order_by(a.c.fired_at.desc()).limit(1)).first()
                cooldown = parse_duration(rule["cooldown"], "cooldown")
                if last is not None and last.resolved_at and at - last.resolved_at < cooldown:
                    return None
                alert_id = secrets.token_hex(8)
                conn.execute(insert(a).values(
                    id=alert_id, deployment=name, rule_id=rule["id"], kind=rule["kind"],
                    status="firing", message=message, value=value,
                    threshold=rule.get("threshold"), fired_at=at, updated_at=at,
                    data={"rule": rule}))
        alert = self.get_alert(alert_id)
        if alert["status"] == "firing":
            self._notify(alert, rule, user, run_actions)
        return alert

    def _notify(self, alert: dict[str, Any], rule: dict[str, Any], user: str,
                run_actions: bool) -> None:
        if rule.get("webhook"):
            result = deliver(rule["webhook"], {"alert": {k: alert[k] for k in (
                "id", "deployment", "kind", "status", "message", "value", "threshold",
                "fired_at")}, "rule": {k: v for k, v in rule.items() if k != "webhook"}})
            self._merge_data(alert["id"], {"webhook": result})
        if run_actions and rule.get("action") and self.retrain is not None:
            self._merge_data(alert["id"], {"retrain": {"status": "queued"}})
            # the action runs code its rule's owner configured: it acts as them (never
            # as the monitor, nor as whoever happened to trigger the evaluation)
            future = self._actions.submit(self._run_retrain, alert, rule["action"],
                                          self._rule_owner(str(rule.get("id"))) or user)
            with self._lock:
                self._pending = [f for f in self._pending if not f.done()] + [future]

    def _rule_owner(self, rule_id: str) -> str | None:
        """Who saved a rule (the person its action acts as)."""
        with self.db.read() as conn:
            owner = conn.execute(select(s.alert_rules.c.created_by).where(
                s.alert_rules.c.id == rule_id)).scalar()
        return None if owner is None else str(owner)

    def _run_retrain(self, alert: dict[str, Any], action: dict[str, Any], user: str) -> None:
        assert self.retrain is not None
        self._merge_data(alert["id"], {"retrain": {"status": "running"}})
        self._merge_data(alert["id"], {"retrain": self.retrain(alert, action, user)})

    def wait_for_actions(self, timeout: float | None = None) -> None:
        """Wait until queued actions (retraining) are done."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.result(timeout)

    def _merge_data(self, alert_id: str, extra: dict[str, Any]) -> None:
        with self.db.write() as conn:
            row = conn.execute(select(s.alerts.c.data).where(s.alerts.c.id == alert_id)).first()
            if row is None:
                return
            conn.execute(update(s.alerts).where(s.alerts.c.id == alert_id).values(
                data={**(row.data or {}), **extra}, updated_at=now_ms()))

    def close(self) -> None:
        """Stop taking actions (queued ones finish)."""
        self._actions.shutdown(wait=False)


def _alert(row: Any) -> dict[str, Any]:
    return {"id": row.id, "deployment": row.deployment, "rule_id": row.rule_id,
            "kind": row.kind, "status": row.status, "message": row.message,
            "value": row.value, "threshold": row.threshold, "fired_at": row.fired_at,
            "updated_at": row.updated_at, "acknowledged_at": row.acknowledged_at,
            "acknowledged_by": row.acknowledged_by, "resolved_at": row.resolved_at,
            "data": row.data or {}}
