"""Fuzzing the REST API from its own OpenAPI document with schemathesis (issue 6).

A real Jupyter server runs in a subprocess with a token and its own store, seeded with
an experiment, a run with a model, a registered version with an alias and a stopped
deployment, so that paths can resolve. Every operation of ``GET /mlops/api/openapi.json``
gets a bounded number of generated requests, twice: with random path parameters and
with the seeded names, each in schemathesis' positive (schema-valid) and negative
(schema-violating) modes. Checked for each response:

- no 5xx;
- a 4xx answer is JSON with string ``error`` and ``message``;
- a 2xx answer conforms to the response schema the document declares.

The figures (operations, requests, 500s, schema mismatches) are printed and written to
``benchmarks/security.md`` by ``python benchmarks/security_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

EXAMPLES = int(os.environ.get("MLOPS_JLAB_FUZZ_EXAMPLES", "10"))
SEEDED = {"name": "fuzz-model", "ref": "1", "alias": "staging", "key": "acc",
          "path": "model/manifest.json", "alert_id": "0abc", "request_id": "0abc"}


@dataclass
class FuzzReport:
    """What one fuzz pass tried and found."""

    operations: int = 0
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    bad_error_bodies: list[str] = field(default_factory=list)
    schema_mismatches: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.by_status.items()))
        return (f"{self.operations} operations, {self.requests} generated requests; "
                f"5xx: {len(self.server_errors)}; 4xx without a JSON error body: "
                f"{len(self.bad_error_bodies)}; 2xx not matching the documented schema: "
                f"{len(self.schema_mismatches)} operations; statuses {statuses}")


def seed(server) -> dict[str, str]:
    """A run with a model, a registered version aliased staging, a stopped deployment."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import mlops_jlab as mlops

    mlops.configure(uri=server.url, token=server.token, user="alice")
    try:
        X, y = load_iris(return_X_y=True, as_frame=True)
        mlops.set_experiment("fuzz")
        with mlops.start_run(name="seed", params={"model": "lr"}) as run:
            run.log_metric("acc", 0.9)
            run.log_model(LogisticRegression(max_iter=300).fit(X, y), input_example=X)
        mlops.register_model(run, "fuzz-model")
        mlops.set_alias("fuzz-model", "staging", 1)
    finally:
        mlops.configure()
    created = server.api("POST", "/deployments", json={"model": "fuzz-model",
                                                       "name": "fuzz-dep"})
    assert created.status_code == 201, created.text
    stopped = server.api("DELETE", "/deployments/fuzz-dep")
    assert stopped.status_code == 200, stopped.text
    return {"run_id": run.id, "experiment": "fuzz"}


def fuzz(server, examples: int = EXAMPLES, seeded: dict[str, str] | None = None
         ) -> FuzzReport:
    """Run every operation of the server's OpenAPI document through schemathesis."""
    document = server.api("GET", "/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    report = FuzzReport()
    values = {**SEEDED, **(seeded or {})}
    for result in schema.get_all_operations():
        report.operations += 1
        _fuzz_operation(server, result.ok(), values, examples, report)
    return report


def _seeded_path(operation, values: dict[str, str]) -> dict[str, str] | None:
    """The seeded values of every path parameter of ``operation`` (None when one lacks)."""
    names = [p.name for p in operation.path_parameters]
    dep = "/deployments/" in operation.path or "/monitoring/" in operation.path
    fixed = {n: "fuzz-dep" if (n == "name" and dep) else values[n]
             for n in names if n in values}
    return fixed if fixed and len(fixed) == len(names) else None


def _fuzz_operation(server, operation, values: dict[str, str], examples: int,
                    report: FuzzReport) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.specs.openapi.checks import response_schema_conformance

    headers = {"Authorization": f"token {server.token}"}
    base_url = server.url.rstrip("/")
    strategies = [operation.as_strategy(generation_mode=mode)
                  for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    fixed = _seeded_path(operation, values)
    if fixed:
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.POSITIVE,
                                                path_parameters=fixed))

    @settings(max_examples=examples * len(strategies), deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(strategies))
    def run(case):
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        report.requests += 1
        report.by_status[response.status_code] += 1
        label = f"{case.method} {case.formatted_path}"
        if response.status_code >= 500:
            report.server_errors.append(f"{label} -> {response.status_code}: "
                                        f"{response.text[:200]}")
            return
        if 400 <= response.status_code < 500:
            try:
                body = response.json()
                ok = isinstance(body.get("error"), str) and \
                    isinstance(body.get("message"), str)
            except (ValueError, AttributeError):
                ok = False
            if not ok:
                report.bad_error_bodies.append(f"{label} -> {response.status_code}: "
                                               f"{response.text[:120]}")
            return
        try:
            case.validate_response(response, checks=[response_schema_conformance])
        except Exception as exc:  # a failure group naming the mismatch
            report.schema_mismatches.setdefault(operation.label, str(exc)[:400])

    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    from tests.helpers.team_server import TeamServer

    server = TeamServer(tmp_path_factory.mktemp("fuzz"))
    try:
        server.wait_ready()
        yield server, seed(server)
    finally:
        server.stop()


def test_fuzz_every_operation_of_the_openapi_document(fuzz_server):
    server, seeded = fuzz_server
    report = fuzz(server, seeded={"run_id": seeded["run_id"]})
    print("\nfuzz:", report.summary())
    for line in report.server_errors[:20] + report.bad_error_bodies[:20]:
        print("  ", line)
    for label, message in report.schema_mismatches.items():
        print("   schema:", label, message.splitlines()[0] if message else "")
    assert report.operations >= 40 and report.requests >= report.operations
    assert report.server_errors == [], server.log_tail(60)
    assert report.bad_error_bodies == []
    assert report.schema_mismatches == {}


def write_figures(report: FuzzReport, examples: int, target: Path) -> None:
    """The closing note's figures, as Markdown: the fuzz pass and the attack classes of
    ``tests/test_security.py`` (counted from its case lists)."""
    from tests import test_security as sec

    rows = [
        ("no token / wrong token (3 variants)", f"{len(sec.ROUTE_VERBS)} route-verbs x 3",
         "403 JSON"),
        ("cookie without XSRF token", f"{len(sec.WRITE_ROUTES)} write route-verbs",
         "403 JSON naming _xsrf"),
        ("non-JSON media type (CVE-2023-43472 style)",
         f"{len(sec.WRITE_ROUTES)} x {len(sec.BAD_TYPES)} types, with and without token",
         "415 JSON / 403"),
        ("oversized body (> 10 MB)", "1", "413 JSON before parsing"),
        ("path traversal, Python API (artifact paths, names, aliases, model paths, URIs)",
         f"{2 * len(sec.TRAVERSALS)} + {2 * (len(sec.TRAVERSALS) + len(sec.ENCODED) + 3)}"
         f" + 18", "InvalidInput"),
        ("path traversal, REST (artifact route and 5 name routes, body names)",
         "45", "4xx JSON, no file content"),
        ("symlinks out of a logged / loaded folder", "3", "InvalidInput / UntrustedModel"),
        ("stored paths edited in the database (read, register, load, export)", "4",
         "InvalidInput / UntrustedModel, nothing written"),
        ("filter / order_by SQL metacharacters",
         f"{len(sec.INJECTIONS) + len(sec.ORDER_INJECTIONS)} x 2 faces",
         "FilterError / 400 JSON, tables intact"),
        ("webhook SSRF (internal, encoded IPs, localhost, malformed)",
         f"{len(sec.INTERNAL_URLS) + len(sec.MALFORMED_URLS)} + redirect",
         "InvalidInput, not delivered, redirect not followed"),
    ]
    lines = [
        "# Security figures (issue 6)",
        "",
        "Attack classes of `tests/test_security.py` (all passing):",
        "",
        "| attack class | cases | result |",
        "| --- | --- | --- |",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        "## Fuzzing (schemathesis)",
        "",
        "`python benchmarks/security_fuzz.py` starts a Jupyter server with the extension",
        "(token, empty store), seeds a run, a registered model and a stopped deployment,",
        "then generates requests for every operation of `GET /mlops/api/openapi.json`",
        f"({examples} examples per operation and strategy: random path parameters in",
        "schemathesis' positive and negative modes, plus the seeded names).",
        "",
        f"- {report.summary()}",
        f"- server errors (5xx): {len(report.server_errors)}",
        "",
    ]
    target.write_text("\n".join(lines) + "\n")
