"""Every route x every kind of caller x (open, restricted resource), generated from the
OpenAPI document and the access table, from the attacker's side.

A team server with five users: ``alice`` (admin, the server's own user), ``april``
(approver), ``cory`` (contributor, owner of a restricted experiment, model and
deployment that only he may read or change), ``carl`` (contributor, owner of the open
ones) and ``vic`` (viewer), plus anonymous callers. For each operation of
``openapi.json`` the test derives the expected answer from the operation's
``x-mlops-access`` entry (which must exist: a route missing from the table fails) and
checks the real one: 403 where the caller may not act, never 403 or 5xx where it may,
and no trace of the restricted resources in any 2xx body a non-reader gets.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import insert
from tornado.httpclient import HTTPClientError

import mlops_jlab as mlops
from mlops_jlab.governance.roles import allows
from mlops_jlab.server.openapi import PATHS
from mlops_jlab.server.route_access import ROUTE_ACCESS, SIGNED_IN, RouteAccess
from mlops_jlab.server.routes import HANDLERS as _HANDLERS
from mlops_jlab.store import schema as s

pytestmark = pytest.mark.team_identities

HANDLERS = dict(_HANDLERS)
MARK = "topsecret"  # in every name and value of the restricted resources
ROLES = {"alice": "admin", "april": "approver", "cory": "contributor",
         "carl": "contributor", "vic": "viewer"}
CALLERS = ["anonymous", "vic", "carl", "april", "cory", "alice"]
READERS_OF_RESTRICTED = {"cory", "alice"}
OPEN_OWNER = "carl"


def _seed(tmp_notebook_root) -> dict[str, dict[str, str]]:
    """Open and restricted resources; returns the path values of each case."""
    b = mlops.backend()
    mlops.configure(user="alice")
    assert mlops.whoami()["role"] == "admin"
    for name, role in ROLES.items():
        if name != "alice":
            mlops.grant(name, role)
    X = np.random.default_rng(0).normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    cases: dict[str, dict[str, str]] = {}
    for case, owner in (("open", OPEN_OWNER), ("restricted", "cory")):
        tag = MARK if case == "restricted" else "public"
        mlops.configure(user=owner)
        with mlops.start_run(experiment=f"exp-{tag}", name=f"run-{tag}") as run:
            run.log_params({"p": f"value-{tag}"})
            run.log_metric("acc", 0.9)
            run.log_model(LogisticRegression().fit(X, y), input_example=X[:3])
        version = mlops.register_model(run, f"model-{tag}")
        mlops.validate(f"model-{tag}", version.version, (X, y))
        promotion = mlops.request_promotion(f"model-{tag}", version.version)
        deployment, _ = b.serving.deploy(f"model-{tag}", version.version, owner,
                                         name=f"dep-{tag}")
        b.serving.stop(deployment.name, owner)
        exp = b.tracking.get_experiment(f"exp-{tag}")
        with b.tracking.db.write() as conn:
            alert_id = "a0" if case == "open" else "b0"
            conn.execute(insert(s.alerts).values(
                id=alert_id, deployment=deployment.name, rule_id="r1", kind="error_rate",
                status="firing", message=f"errors on dep-{tag}", fired_at=1, updated_at=1,
                data={}))
        if case == "restricted":
            mlops.set_permissions("experiment", exp.id, readers=["cory"], writers=["cory"])
            mlops.set_permissions("model", f"model-{tag}", readers=["cory"],
                                  writers=["cory"])
        cases[case] = {"ref": exp.id, "run_id": run.id, "name": f"model-{tag}",
                       "deployment": deployment.name, "alert_id": alert_id,
                       "request_id": promotion.id, "version": str(version.version)}
    mlops.configure(user="cory")
    (tmp_notebook_root / "nightly.ipynb").write_text(json.dumps(
        {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    schedule = mlops.create_schedule("nightly", "0 2 * * *", "nightly.ipynb", paused=True)
    for case in cases.values():
        case["schedule"] = schedule["id"]
    mlops.configure(user="alice")
    return cases


def _path_values(template: str, case: dict[str, str]) -> dict[str, str]:
    values = {"run_id": case["run_id"], "alert_id": case["alert_id"],
              "request_id": case["request_id"], "key": "acc", "path": "model/MLmodel",
              "alias": "staging", "explanation": "0" * 32, "decision": "approve",
              "kind": "models"}
    if template.startswith("/mlops/api/experiments/") or "/{kind}/" in template:
        values["ref"] = case["ref"] if "/experiments/" in template else case["name"]
    if "/versions/{ref}" in template:
        values["ref"] = case["version"]
    if template.startswith("/mlops/api/schedules/"):
        values["ref"] = case["schedule"]
    if template.startswith(("/mlops/api/deployments/", "/mlops/api/monitoring/")):
        values["name"] = case["deployment"]
    elif template.startswith("/mlops/api/users/"):
        values["name"] = "newbie"
    else:
        values["name"] = case["name"]
    return values


def _expected_allowed(caller: str, rule: RouteAccess, values: dict[str, str],
                      case: str) -> bool:
    """Whether the table lets ``caller`` through (the services may still say 4xx)."""
    if caller == "anonymous":
        return False
    role = ROLES[caller]
    action = rule.action
    if rule.by_param:
        action = rule.by_param[1].get(values.get(rule.by_param[0], ""), action)
    if action == "deploy":
        action = "deploy_staging"  # the fixtures' deployments are staging
    if action != SIGNED_IN and not allows(role, action):
        return False
    if rule.scope == "none" or role == "admin":
        return True
    if rule.scope == "user":
        return values["name"] == caller
    if rule.scope == "schedule":
        return rule.resource_mode == "read" or caller == "cory"
    if rule.resource_mode == "owner":
        return caller == ("cory" if case == "restricted" else OPEN_OWNER)
    return case == "open" or caller in READERS_OF_RESTRICTED


def _operations() -> list[tuple[str, str]]:
    ops = [(path, method) for path, methods in PATHS.items() for method in methods]
    # deletes last: they remove what the other operations need
    return sorted(ops, key=lambda op: (op[1] == "delete", op[0], op[1]))


#: operations an allowed caller does not send (they start work in the background)
NOT_SENT_WHEN_ALLOWED = {("/mlops/api/schedules/{ref}/run", "post")}


def test_the_table_covers_every_documented_operation_and_nothing_else():
    documented = {(p, m) for p, ms in PATHS.items() for m in ms}
    declared = {(p, m) for p, ms in ROUTE_ACCESS.items() for m in ms}
    assert documented == declared, (documented ^ declared)
    for path, method in documented:
        assert PATHS[path][method]["x-mlops-access"] == \
            ROUTE_ACCESS[path][method].to_dict()


async def test_every_route_every_caller_open_and_restricted(jp_fetch, mlops_home,
                                                            jp_root_dir, monkeypatch):
    monkeypatch.chdir(jp_root_dir)  # where local-mode schedules find their notebook
    cases = _seed(jp_root_dir)
    b = mlops.backend()
    tokens = {name: b.access.issue_token("alice", name)  # type: ignore[attr-defined]
              for name in ROLES if name != "alice"}

    async def send(caller: str, method: str, template: str, path: str
                   ) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"}
        if caller == "alice":
            pass  # jp_fetch's own token: the server's local user
        elif caller == "anonymous":
            headers["Authorization"] = ""
        else:
            headers["Authorization"] = f"token {tokens[caller]}"
        kwargs: dict[str, Any] = {"method": method.upper(), "headers": headers}
        if method in ("post", "put", "patch"):
            kwargs["body"] = "{}"
            accepted = HANDLERS[template].body_types  # a body the route can parse
            headers["Content-Type"] = "application/json" if "application/json" in accepted \
                else accepted[0]
        try:
            response = await jp_fetch(*path.strip("/").split("/"), **kwargs)
            return response.code, response.body
        except HTTPClientError as exc:
            return exc.code, exc.response.body if exc.response else b""

    checked, unexpected = 0, []
    for template, method in _operations():
        rule = ROUTE_ACCESS[template][method]
        scoped = rule.scope not in ("none", "user", "schedule")  # one schedule, cory's
        for case in (("open", "restricted") if scoped else ("open",)):
            values = _path_values(template, cases[case])
            path = template.format(**values)
            for caller in CALLERS:
                allowed = _expected_allowed(caller, rule, values, case)
                if allowed and (template, method) in NOT_SENT_WHEN_ALLOWED:
                    continue
                code, body = await send(caller, method, template, path)
                checked += 1
                if code >= 500 or (allowed and code == 403) or (not allowed and code != 403):
                    unexpected.append((method.upper(), path, case, caller, allowed, code,
                                       body[:200]))
                if 200 <= code < 300 and caller not in READERS_OF_RESTRICTED and \
                        MARK in body.decode(errors="replace").lower():
                    unexpected.append((method.upper(), path, case, caller, "LEAK", code,
                                       body[:300]))
    assert not unexpected, "\n".join(map(str, unexpected))
    assert checked > 6 * len(ROUTE_ACCESS)
    # evaluating a deployment's rules takes the deploy action and leaves an audit event
    evaluations = mlops.audit(action="monitoring.evaluate")
    assert set(evaluations["actor"]) == {"alice", "april", "carl", "cory"}
    # the restricted resources' events exist, and only their readers see them
    assert mlops.audit(target="dep-topsecret").shape[0] > 0
