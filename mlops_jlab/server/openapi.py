"""The OpenAPI 3.1 document of ``/mlops/api`` (kept beside the routes; a test checks
that every route is described)."""

from __future__ import annotations

from typing import Any

from .route_access import ROUTE_ACCESS

_ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "bad input (names the problem)", 403: "not authenticated or not allowed",
            404: "unknown id or name", 409: "conflicts with existing state",
            422: "breaks a rule"}
    return {str(c): {"description": text[c],
                     "content": {"application/json": {"schema": _ERROR}}} for c in codes}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _q(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


_PATTERNS = {"run_id": "^[0-9a-fA-F]{1,64}$", "alert_id": "^[0-9a-f]{1,32}$",
             "request_id": "^[0-9a-f]{1,32}$"}  # as routes.py matches them


def _p(name: str, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if name in _PATTERNS:
        schema["pattern"] = _PATTERNS[name]
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


PATHS: dict[str, dict[str, Any]] = {
    "/mlops/api/version": {"get": {
        "summary": "Server version (frontend handshake)", "tags": ["server"],
        "responses": {"200": _json({"type": "object", "properties": {
            "version": {"type": "string"}, "api": {"type": "integer"},
        "user": {"type": "string", "description": "the acting user the server sees"}}}),
        **_errors(403)}}},
    "/mlops/api/openapi.json": {"get": {
        "summary": "This document", "tags": ["server"],
        "responses": {"200": _json({"type": "object"}), **_errors(403)}}},
    "/mlops/api/experiments": {
        "get": {"summary": "List experiments", "tags": ["tracking"],
                "responses": {"200": _json({"type": "object", "properties": {
                    "experiments": {"type": "array", "items": _ref("Experiment")}}}),
                    **_errors(403)}},
        "post": {"summary": "Create an experiment", "tags": ["tracking"],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["name"], "properties": {
                         "name": {"type": "string"},
                         "tags": {"type": "object",
                                  "additionalProperties": {"type": "string"}}}}}}},
                 "responses": {"201": _json(_ref("Experiment"), "Created"),
                               **_errors(400, 403, 409)}}},
    "/mlops/api/experiments/{ref}": {"get": {
        "summary": "One experiment by id or name", "tags": ["tracking"],
        "parameters": [_p("ref", "experiment id or name")],
        "responses": {"200": _json(_ref("Experiment")), **_errors(403, 404)}}},
    "/mlops/api/experiments/{ref}/keys": {"get": {
        "summary": "The param, metric and tag keys the experiment's runs use",
        "tags": ["tracking"],
        "parameters": [_p("ref", "experiment id or name")],
        "responses": {"200": _json({"type": "object", "properties": {
            k: {"type": "array", "items": {"type": "string"}}
            for k in ("params", "metrics", "tags")}}), **_errors(403, 404)}}},
    "/mlops/api/runs": {"get": {
        "summary": "Search runs (cursor-paged)", "tags": ["tracking"],
        "parameters": [
            _q("experiment", "experiment id or name; omitted: all experiments"),
            _q("filter", "e.g. metrics.acc > 0.9 and params.model = 'rf'"),
            _q("order_by", "comma-separated, e.g. metrics.acc DESC,attributes.start_time"),
            _q("limit", "page size", {"type": "integer", "minimum": 1, "maximum": 1000,
                                      "default": 100}),
            _q("page_token", "next_page_token of the previous page"),
            _q("count", "also count every matching run (total)", {"type": "boolean"})],
        "responses": {"200": _json({"type": "object", "properties": {
            "runs": {"type": "array", "items": _ref("Run")},
            "next_page_token": {"type": ["string", "null"]},
            "total": {"type": "integer"}}}), **_errors(400, 403, 404)}}},
    "/mlops/api/runs/{run_id}": {"get": {
        "summary": "One run with params, metrics, tags, source, environment, artifacts, "
                   "datasets", "tags": ["tracking"],
        "parameters": [_p("run_id", "run id")],
        "responses": {"200": _json(_ref("RunDetail")), **_errors(403, 404)}}},
    "/mlops/api/runs/{run_id}/metrics/{key}": {"get": {
        "summary": "History of one metric", "tags": ["tracking"],
        "parameters": [_p("run_id", "run id"), _p("key", "metric key")],
        "responses": {"200": _json({"type": "object", "properties": {
            "run_id": {"type": "string"}, "key": {"type": "string"},
            "history": {"type": "array", "items": {"type": "object", "properties": {
                "step": {"type": "integer"}, "value": {"type": ["number", "null"]},
                "timestamp": {"type": "integer"}}}}}}), **_errors(403, 404)}}},
    "/mlops/api/runs/{run_id}/artifacts/{path}": {"get": {
        "summary": "Download one artifact", "tags": ["tracking"],
        "parameters": [_p("run_id", "run id"), _p("path", "artifact path")],
        "responses": {"200": {"description": "the artifact's bytes; header X-Content-SHA256"},
                      **_errors(403, 404)}}},
}

_NAME = _p("name", "registered model name")
_REFP = _p("ref", "version number, alias (production) or latest")


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_OBJ = {"type": "object"}

PATHS.update({
    "/mlops/api/models": {
        "get": {"summary": "List registered models", "tags": ["registry"],
                "responses": {"200": _json({"type": "object", "properties": {
                    "models": {"type": "array", "items": _ref("RegisteredModel")}}}),
                    **_errors(403)}},
        "post": {"summary": "Create a registered model", "tags": ["registry"],
                 "requestBody": _body({"type": "object", "required": ["name"], "properties": {
                     "name": {"type": "string"}, "description": {"type": "string"},
                     "tags": _OBJ}}),
                 "responses": {"201": _json(_ref("RegisteredModel"), "Created"),
                               **_errors(400, 403, 409)}}},
    "/mlops/api/models/{name}": {
        "get": {"summary": "One registered model", "tags": ["registry"],
                "parameters": [_NAME],
                "responses": {"200": _json(_ref("RegisteredModel")), **_errors(400, 403, 404)}},
        "patch": {"summary": "Change description or tags", "tags": ["registry"],
                  "parameters": [_NAME],
                  "requestBody": _body({"type": "object", "properties": {
                      "description": {"type": "string"}, "tags": _OBJ}}),
                  "responses": {"200": _json(_ref("RegisteredModel")),
                                **_errors(400, 403, 404)}}},
    "/mlops/api/models/{name}/rules": {
        "get": {"summary": "Validation rules of a model", "tags": ["registry"],
                "parameters": [_NAME],
                "responses": {"200": _json(_OBJ), **_errors(400, 403, 404)}},
        "put": {"summary": "Replace the validation rules", "tags": ["registry"],
                "parameters": [_NAME],
                "requestBody": _body({"type": "object", "properties": {
                    "rules": {"type": "array", "items": _OBJ}}}),
                "responses": {"200": _json(_OBJ), **_errors(400, 403)}}},
    "/mlops/api/models/{name}/versions": {
        "get": {"summary": "Versions of a model, newest first", "tags": ["registry"],
                "parameters": [_NAME, _q("include_archived", "true or false",
                                         {"type": "boolean", "default": False})],
                "responses": {"200": _json({"type": "object", "properties": {
                    "versions": {"type": "array", "items": _ref("ModelVersion")}}}),
                    **_errors(400, 403, 404)}},
        "post": {"summary": "Register a run's model as the next version", "tags": ["registry"],
                 "parameters": [_NAME],
                 "requestBody": _body({"type": "object", "required": ["run_id"], "properties": {
                     "run_id": {"type": "string"},
                     "model_path": {"type": "string", "default": "model"}}}),
                 "responses": {"201": _json(_ref("ModelVersion"), "Created"),
                               **_errors(400, 403, 404, 422)}}},
    "/mlops/api/models/{name}/versions/{ref}": {
        "get": {"summary": "One version", "tags": ["registry"], "parameters": [_NAME, _REFP],
                "responses": {"200": _json(_ref("ModelVersion")), **_errors(400, 403, 404)}},
        "patch": {"summary": "Description, tags, archive", "tags": ["registry"],
                  "parameters": [_NAME, _REFP],
                  "requestBody": _body({"type": "object", "properties": {
                      "description": {"type": "string"}, "tags": _OBJ,
                      "archived": {"type": "boolean"}}}),
                  "responses": {"200": _json(_ref("ModelVersion")),
                                **_errors(400, 403, 404, 422)}}},
    "/mlops/api/models/{name}/versions/{ref}/lineage": {
        "get": {"summary": "Lineage graph of a version", "tags": ["registry"],
                "parameters": [_NAME, _REFP],
                "responses": {"200": _json(_ref("Lineage")), **_errors(400, 403, 404)}}},
    "/mlops/api/models/{name}/versions/{ref}/validations": {
        "get": {"summary": "Validation reports, newest first", "tags": ["registry"],
                "parameters": [_NAME, _REFP],
                "responses": {"200": _json({"type": "object", "properties": {
                    "validations": {"type": "array", "items": _ref("ValidationReport")}}}),
                    **_errors(400, 403, 404)}},
        "post": {"summary": "Validate on a registered dataset's stored sample",
                 "tags": ["registry"], "parameters": [_NAME, _REFP],
                 "requestBody": _body({"type": "object", "required": ["dataset", "target"],
                                       "properties": {"dataset": {"type": "string"},
                                                      "dataset_version": {"type": "integer"},
                                                      "target": {"type": "string"}}}),
                 "responses": {"201": _json(_ref("ValidationReport"), "Created"),
                               **_errors(400, 403, 404, 422)}}},
    "/mlops/api/models/{name}/aliases/{alias}": {
        "put": {"summary": "Point an alias at a version (production needs a passing "
                           "validation)", "tags": ["registry"],
                "parameters": [_NAME, _p("alias", "alias name")],
                "requestBody": _body({"type": "object", "required": ["version"],
                                      "properties": {"version": {"type": "integer"}}}),
                "responses": {"200": _json(_OBJ), **_errors(400, 403, 404, 422)}},
        "delete": {"summary": "Remove an alias", "tags": ["registry"],
                   "parameters": [_NAME, _p("alias", "alias name")],
                   "responses": {"204": {"description": "removed"},
                                 **_errors(400, 403, 404)}}},
})

_DEP = _p("name", "deployment name")
_PII = {"type": "object", "description": "input columns the prediction log stores hashed "
        "(keyed HMAC-SHA256, 16 hex), masked ('***') or not at all; {} clears",
        "additionalProperties": {"type": "string", "enum": ["hash", "mask", "drop"]}}
_DRIFT_QUERY = [_DEP, _q("window", "duration back from now: 30m, 1h, 7d (default 1h)"),
                _q("rows", "the newest N rows instead", {"type": "integer"}),
                _q("start", "ms since the epoch", {"type": "integer"}),
                _q("end", "ms since the epoch", {"type": "integer"}),
                _q("tests", 'JSON object overriding the test per column: '
                   '{"age": ["psi", 0.1], "city": "jensenshannon"}'),
                _q("drift_share", "share of drifted columns that makes dataset drift (0.5)",
                   {"type": "number"})]
_DRIFT_REPORT = {"type": "object", "description": "summary, columns (test, statistic, "
                 "threshold, drifted, psi, notes, distribution), context"}

PATHS.update({
    "/mlops/api/deployments": {
        "get": {"summary": "List deployments (desired and observed state)",
                "tags": ["serving"],
                "responses": {"200": _json({"type": "object", "properties": {
                    "deployments": {"type": "array", "items": _ref("Deployment")}}}),
                    **_errors(403)}},
        "post": {"summary": "Deploy a model version (creates or updates by name)",
                 "tags": ["serving"],
                 "requestBody": _body({"type": "object", "required": ["model"], "properties": {
                     "model": {"type": "string"}, "version": {"type": ["integer", "string"]},
                     "name": {"type": "string"},
                     "environment": {"type": "string", "enum": ["staging", "production"]},
                     "replicas": {"type": "integer"},
                     "canary": {"type": "object", "properties": {
                         "version": {"type": "integer"}, "percent": {"type": "integer"}}},
                     "shadow": {"type": "integer"}, "pii": _PII}}),
                 "responses": {"201": _json(_ref("Deployment"),
                                            "Created; includes the bearer token once"),
                               **_errors(400, 403, 404, 409, 422)}}},
    "/mlops/api/deployments/{name}": {
        "get": {"summary": "One deployment", "tags": ["serving"], "parameters": [_DEP],
                "responses": {"200": _json(_ref("Deployment")), **_errors(400, 403, 404)}},
        "patch": {"summary": "Change traffic, replicas, shadow or PII columns; or roll back",
                  "tags": ["serving"], "parameters": [_DEP],
                  "requestBody": _body({"type": "object", "properties": {
                      "traffic": {"type": "array", "items": _OBJ},
                      "replicas": {"type": "integer"}, "shadow": {"type": ["integer", "null"]},
                      "pii": _PII, "rollback": {"type": "boolean"}}}),
                  "responses": {"200": _json(_ref("Deployment")),
                                **_errors(400, 403, 404, 422)}},
        "delete": {"summary": "Stop serving (history kept)", "tags": ["serving"],
                   "parameters": [_DEP],
                   "responses": {"200": _json(_ref("Deployment")), **_errors(400, 403, 404)}}},
    "/mlops/api/deployments/{name}/events": {
        "get": {"summary": "Events, newest first", "tags": ["serving"],
                "parameters": [_DEP, _q("limit", "1-1000", {"type": "integer"})],
                "responses": {"200": _json(_OBJ), **_errors(400, 403, 404)}}},
    "/mlops/api/deployments/{name}/stats": {
        "get": {"summary": "Request rate, errors and p50/p95 latency per time bucket (shadow "
                           "copies left out; an error is a logged status other than 200)",
                "tags": ["serving"],
                "parameters": [_DEP,
                               _q("window", "seconds back from end, 60-604800 (3600)",
                                  {"type": "integer", "minimum": 60, "maximum": 604800}),
                               _q("buckets", "1-240 (30); each ceil(window*1000/buckets) ms",
                                  {"type": "integer", "minimum": 1, "maximum": 240}),
                               _q("end", "ms since the epoch the window ends at (now)",
                                  {"type": "integer", "minimum": 0,
                                   "maximum": 2**53})],
                "responses": {"200": _json(_ref("RequestStats")),
                              **_errors(400, 403, 404)}}},
    "/mlops/api/deployments/{name}/predict": {
        "post": {"summary": "Predict through Jupyter auth (same body as the worker's "
                            "/v1/predict)", "tags": ["serving"], "parameters": [_DEP],
                 "requestBody": _body(_OBJ),
                 "responses": {"200": _json(_OBJ), **_errors(400, 403, 404, 422)}}},
    "/mlops/api/deployments/{name}/feedback": {
        "post": {"summary": "Ground truth for logged predictions, by request id",
                 "tags": ["monitoring"], "parameters": [_DEP],
                 "requestBody": _body({"type": "object", "required": ["request_ids", "labels"],
                                       "properties": {
                                           "request_ids": {"type": "array",
                                                           "items": {"type": "string"}},
                                           "labels": {"type": "array",
                                                      "description": "one per request: a "
                                                      "value, or a list for a multi-row "
                                                      "request"}}}),
                 "responses": {"200": _json({"type": "object", "properties": {
                     "stored": {"type": "integer"}, "matched": {"type": "integer"}}}),
                     **_errors(400, 403, 404)}}},
    "/mlops/api/monitoring/{name}/drift": {
        "get": {"summary": "Drift of the deployment's logged inputs against the training "
                           "data of the version it serves (not recorded: POST records it)",
                "tags": ["monitoring"],
                "parameters": [*_DRIFT_QUERY,
                               _q("store", "only false is accepted: a GET never records",
                                  {"type": "boolean"})],
                "responses": {"200": _json(_DRIFT_REPORT), **_errors(400, 403, 404, 422)}},
        "post": {"summary": "Compute the drift (same query and answer as GET) and record it "
                            "in the drift history (audited as drift.record)",
                 "tags": ["monitoring"], "parameters": _DRIFT_QUERY,
                 "responses": {"201": _json(_DRIFT_REPORT, "Created"),
                               **_errors(400, 403, 404, 422)}}},
    "/mlops/api/monitoring/{name}/drift/history": {
        "get": {"summary": "Recorded drift reports, newest first", "tags": ["monitoring"],
                "parameters": [_DEP, _q("limit", "1-10000 (100)", {"type": "integer"})],
                "responses": {"200": _json({"type": "object", "properties": {
                    "history": {"type": "array", "items": _OBJ}}}), **_errors(400, 403, 404)}}},
    "/mlops/api/monitoring/{name}/performance": {
        "get": {"summary": "Metrics of labelled predictions per version and time bucket",
                "tags": ["monitoring"],
                "parameters": [_DEP, _q("window", "duration back from now (7d)"),
                               _q("bucket", "bucket width, e.g. 1h (default: one bucket)"),
                               _q("task", "classification or regression (default: from "
                                  "the labels)"),
                               _q("start", "ms since the epoch", {"type": "integer"}),
                               _q("end", "ms since the epoch", {"type": "integer"})],
                "responses": {"200": _json({"type": "object", "properties": {
                    "performance": {"type": "array", "items": _OBJ}}}),
                    **_errors(400, 403, 404)}}},
    "/mlops/api/monitoring/{name}/rules": {
        "get": {"summary": "A deployment's alert rules", "tags": ["monitoring"],
                "parameters": [_DEP],
                "responses": {"200": _json({"type": "object", "properties": {
                    "rules": {"type": "array", "items": _ref("AlertRule")}}}),
                    **_errors(403, 404)}},
        "put": {"summary": "Replace a deployment's alert rules (all checked, or none saved)",
                "tags": ["monitoring"], "parameters": [_DEP],
                "requestBody": _body({"type": "object", "required": ["rules"], "properties": {
                    "rules": {"type": "array", "items": _ref("AlertRule")}}}),
                "responses": {"200": _json({"type": "object", "properties": {
                    "rules": {"type": "array", "items": _ref("AlertRule")}}}),
                    **_errors(400, 403, 404)}}},
    "/mlops/api/monitoring/{name}/evaluate": {
        "post": {"summary": "Evaluate the rules now; the alerts that fired or resolved",
                 "tags": ["monitoring"], "parameters": [_DEP],
                 "responses": {"200": _json({"type": "object", "properties": {
                     "alerts": {"type": "array", "items": _ref("Alert")}}}),
                     **_errors(403, 404)}}},
    "/mlops/api/alerts": {
        "get": {"summary": "Alerts, newest first", "tags": ["monitoring"],
                "parameters": [_q("deployment", "one deployment's"),
                               _q("status", "firing, acknowledged, resolved or open"),
                               _q("limit", "1-10000 (200)", {"type": "integer"})],
                "responses": {"200": _json({"type": "object", "properties": {
                    "alerts": {"type": "array", "items": _ref("Alert")}}}),
                    **_errors(400, 403)}}},
    "/mlops/api/alerts/{alert_id}/acknowledge": {
        "post": {"summary": "Acknowledge a firing alert", "tags": ["monitoring"],
                 "parameters": [_p("alert_id", "alert id")],
                 "responses": {"200": _json(_ref("Alert")), **_errors(403, 404, 422)}}},
})

# ---------------------------------------------------------------- team-mode writes
_RUN = _p("run_id", "run id")
_POINTS = {"type": "array", "description": "[run_id, key, value (null: NaN), step, "
           "timestamp ms]", "items": {"type": "array", "minItems": 5, "maxItems": 5}}
_DONE = _json({"type": "object", "properties": {"run_id": {"type": "string"}}})

PATHS["/mlops/api/experiments"]["post"]["requestBody"]["content"]["application/json"][
    "schema"]["properties"]["exist_ok"] = {
        "type": "boolean", "description": "return the existing experiment (200) instead of "
                                          "409"}
PATHS["/mlops/api/runs"]["post"] = {
    "summary": "Start a run", "tags": ["tracking"],
    "requestBody": _body({"type": "object", "properties": {
        "experiment": {"type": "string", "description": "name or id; created when missing"},
        "name": {"type": "string"}, "params": _OBJ, "tags": _OBJ, "source": _OBJ,
        "environment": _OBJ, "parent_run_id": {"type": "string"},
        "start_time": {"type": "integer"}}}),
    "responses": {"201": _json(_ref("Run"), "Created"), **_errors(400, 403, 404)}}
PATHS["/mlops/api/runs/{run_id}"]["patch"] = {
    "summary": "Rename a run or merge more source/environment facts", "tags": ["tracking"],
    "parameters": [_RUN],
    "requestBody": _body({"type": "object", "properties": {
        "name": {"type": "string"}, "source": _OBJ, "environment": _OBJ}}),
    "responses": {"200": _DONE, **_errors(400, 403, 404)}}
PATHS["/mlops/api/runs/{run_id}/artifacts/{path}"]["put"] = {
    "summary": "Store one artifact (raw bytes)", "tags": ["tracking"],
    "parameters": [_RUN, _p("path", "artifact path inside the run"),
                   {"name": "X-Content-SHA256", "in": "header", "required": False,
                    "description": "sha256 of the body; checked when sent",
                    "schema": {"type": "string"}}],
    "requestBody": {"required": True, "content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}}},
    "responses": {"201": _json({"type": "object", "properties": {
        "path": {"type": "string"}, "sha256": {"type": "string"},
        "size": {"type": "integer"}}}, "Created"), **_errors(400, 403, 404)}}
PATHS["/mlops/api/runs/{run_id}/notebook"] = {"get": {
    "summary": "The notebook the run stored when it started (lineage): rendered read-only "
               "(html: no scripts, no external resources, user HTML cleaned; show it in a "
               "sandboxed iframe) or as stored (ipynb)", "tags": ["tracking"],
    "parameters": [_RUN, _q("format", "html (default) or ipynb",
                            {"type": "string", "enum": ["html", "ipynb"]})],
    "responses": {
        "200": {"description": "html: the document and the copy's facts; ipynb: the "
                               "stored file (header X-Content-SHA256)", "content": {
            "application/json": {"schema": {"type": "object", "required": [
                "run_id", "artifact", "sha256", "html"], "properties": {
                "run_id": {"type": "string"}, "html": {"type": "string"},
                "artifact": {"type": "string", "description": "e.g. source/train.ipynb"},
                "name": {"type": "string"}, "sha256": {"type": "string"},
                "size": {"type": "integer"},
                "stored_at": {"type": ["integer", "null"], "description": "epoch ms"},
                "source_hash": {"type": ["string", "null"], "description":
                                "sha256 of the notebook file the run's source recorded"},
                "matches_source": {"type": ["boolean", "null"]},
                "notebook_path": {"type": ["string", "null"], "description":
                                  "the file's path under the Jupyter root, if inside"}}}},
            "application/x-ipynb+json": {"schema": {"type": "object"}}}},
        **_errors(400, 403, 404), "422": {
            "description": "the stored copy is not a readable notebook, too large to "
                           "render, or fails its sha256",
            "content": {"application/json": {"schema": _ERROR}}}}}}
PATHS["/mlops/api/models/{name}/versions/{ref}/validations"]["post"].update({
    "summary": "Validate on a registered dataset (JSON body) or on rows sent as an Arrow "
               "IPC stream (the model runs on the server, in an isolated process without "
               "secrets; the types it trusts are the server's configuration, never the "
               "request's)",
    "parameters": [_NAME, _REFP,
                   _q("target", "Arrow body: the label column (required with Arrow)")],
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {
            "type": "object", "required": ["dataset", "target"], "properties": {
                "dataset": {"type": "string"}, "dataset_version": {"type": "integer"},
                "target": {"type": "string"}}}},
        "application/vnd.apache.arrow.stream": {"schema": {
            "type": "string", "format": "binary"}}}}})
PATHS.update({
    "/mlops/api/runs/{run_id}/end": {"post": {
        "summary": "End a run (finished, failed, killed) with its last metric points",
        "tags": ["tracking"], "parameters": [_RUN],
        "requestBody": _body({"type": "object", "properties": {
            "status": {"type": "string", "enum": ["finished", "failed", "killed"]},
            "error": {"type": "string"}, "end_time": {"type": "integer"},
            "points": _POINTS}}),
        "responses": {"200": _DONE, **_errors(400, 403, 404, 422)}}},
    "/mlops/api/runs/{run_id}/params": {"post": {
        "summary": "Log params (immutable: 409 on another value)", "tags": ["tracking"],
        "parameters": [_RUN],
        "requestBody": _body({"type": "object", "required": ["params"],
                              "properties": {"params": _OBJ}}),
        "responses": {"200": _DONE, **_errors(400, 403, 404, 409)}}},
    "/mlops/api/runs/{run_id}/tags": {"post": {
        "summary": "Set tags", "tags": ["tracking"], "parameters": [_RUN],
        "requestBody": _body({"type": "object", "required": ["tags"],
                              "properties": {"tags": _OBJ}}),
        "responses": {"200": _DONE, **_errors(400, 403, 404)}}},
    "/mlops/api/runs/{run_id}/steps": {"get": {
        "summary": "Highest step logged per metric key", "tags": ["tracking"],
        "parameters": [_RUN],
        "responses": {"200": _json({"type": "object", "properties": {
            "run_id": {"type": "string"}, "steps": {
                "type": "object", "additionalProperties": {"type": "integer"}}}}),
            **_errors(403)}}},
    "/mlops/api/runs/{run_id}/datasets": {"post": {
        "summary": "Link a dataset version (profiled by the client) to a run",
        "tags": ["tracking"], "parameters": [_RUN],
        "requestBody": _body({"type": "object", "required": ["profile"], "properties": {
            "role": {"type": "string", "default": "train"},
            "profile": {"type": "object", "required": ["name", "fingerprint", "rows",
                                                       "schema"], "properties": {
                "name": {"type": "string"}, "fingerprint": {"type": "string"},
                "rows": {"type": "integer"}, "schema": {"type": "array", "items": _OBJ},
                "profile": _OBJ}}}}),
        "responses": {"201": _json(_OBJ, "Created"), **_errors(400, 403, 404, 409)}}},
    "/mlops/api/metrics": {"post": {
        "summary": "Log a batch of metric points (any runs) in one transaction",
        "tags": ["tracking"],
        "requestBody": _body({"type": "object", "required": ["points"],
                              "properties": {"points": _POINTS}}),
        "responses": {"200": _json({"type": "object", "properties": {
            "written": {"type": "integer"}}}), **_errors(400, 403, 404)}}},
    "/mlops/api/deployments/{name}/token": {"post": {
        "summary": "Issue a new bearer token (the old one stops working)",
        "tags": ["serving"], "parameters": [_p("name", "deployment name")],
        "responses": {"201": _json({"type": "object", "properties": {
            "name": {"type": "string"}, "token": {"type": "string"}}}, "Created"),
            **_errors(400, 403, 404)}}},
})


# ---------------------------------------------------------------- governance
_PROMOTION = {"type": "object", "description": "id, model, version, alias, requester, "
              "comment, status (pending|approved|rejected|cancelled), created_at, "
              "decided_at, required_approvals, approvals, self_approval, decisions [{user, "
              "decision, comment, at}], validation, production_version, metrics_diff"}
_REQ = _p("request_id", "promotion request id")
_AUDIT_FILTERS = [_q("actor", "exact user"), _q("action", "prefix: alias matches alias.set"),
                  _q("target_type", "run, model, deployment, experiment, user"),
                  _q("target", "prefix: cancer matches cancer/1 and cancer@production"),
                  _q("since", "ms since the epoch", {"type": "integer"}),
                  _q("until", "ms since the epoch", {"type": "integer"})]
_PERMS = {"type": "object", "properties": {
    "owner": {"type": "string"}, "readers": {"type": "array", "items": {"type": "string"}},
    "writers": {"type": "array", "items": {"type": "string"}}}}
_POLICY = {"type": "object", "properties": {
    "required_approvals": {"type": "integer", "minimum": 0, "maximum": 10},
    "allow_self_approval": {"type": "boolean"}}}
_COMMENT = _body({"type": "object", "required": ["comment"], "properties": {
    "comment": {"type": "string", "minLength": 1}}})
PATHS.update({
    "/mlops/api/me": {"get": {
        "summary": "The acting user, their role and what it allows", "tags": ["governance"],
        "responses": {"200": _json({"type": "object", "properties": {
            "user": {"type": "string"}, "role": {"type": "string"},
            "can": {"type": "object", "additionalProperties": {"type": "boolean"}}}}),
            **_errors(403)}}},
    "/mlops/api/users": {"get": {
        "summary": "Users and roles", "tags": ["governance"],
        "responses": {"200": _json({"type": "object", "properties": {
            "users": {"type": "array", "items": _OBJ}}}), **_errors(403)}}},
    "/mlops/api/users/{name}": {"put": {
        "summary": "Grant a role (admins)", "tags": ["governance"],
        "parameters": [_p("name", "user name")],
        "requestBody": _body({"type": "object", "required": ["role"], "properties": {
            "role": {"type": "string",
                     "enum": ["viewer", "contributor", "approver", "admin"]}}}),
        "responses": {"200": _json(_OBJ), **_errors(400, 403, 422)}}},
    "/mlops/api/users/{name}/token": {"post": {
        "summary": "Issue an API token for a user (admins, or the user for themself); it "
                   "is shown once. The server needs MlopsIdentityProvider to accept it.",
        "tags": ["governance"], "parameters": [_p("name", "user name")],
        "responses": {"201": _json({"type": "object", "properties": {
            "user": {"type": "string"}, "token": {"type": "string"}}}, "Created"),
            **_errors(400, 403)}}},
    "/mlops/api/promotions": {"get": {
        "summary": "Promotion requests, newest first", "tags": ["governance"],
        "parameters": [_q("status", "pending, approved, rejected or cancelled"),
                       _q("model", "registered model"),
                       _q("limit", "1-1000 (100)", {"type": "integer"})],
        "responses": {"200": _json({"type": "object", "properties": {
            "promotions": {"type": "array", "items": _PROMOTION}}}), **_errors(400, 403)}}},
    "/mlops/api/promotions/{request_id}": {"get": {
        "summary": "A request with its validation report and metrics against @production",
        "tags": ["governance"], "parameters": [_REQ],
        "responses": {"200": _json(_PROMOTION), **_errors(403, 404)}}},
    "/mlops/api/promotions/{request_id}/{decision}": {"post": {
        "summary": "approve or reject (an approver other than the requester, with a "
                   "comment), or cancel (the requester)", "tags": ["governance"],
        "parameters": [_REQ, {**_p("decision", "approve, reject or cancel"),
                              "schema": {"type": "string",
                                         "enum": ["approve", "reject", "cancel"]}}],
        "requestBody": _COMMENT,
        "responses": {"200": _json(_PROMOTION), **_errors(400, 403, 404, 409, 422)}}},
    "/mlops/api/models/{name}/promotions": {"post": {
        "summary": "Request the promotion of a validated version to @production",
        "tags": ["governance"], "parameters": [_NAME],
        "requestBody": _body({"type": "object", "required": ["version"], "properties": {
            "version": {"type": ["integer", "string"]}, "comment": {"type": "string"}}}),
        "responses": {"201": _json(_PROMOTION, "Created"),
                      **_errors(400, 403, 404, 409, 422)}}},
    "/mlops/api/models/{name}/policy": {
        "get": {"summary": "Promotion policy of a model", "tags": ["governance"],
                "parameters": [_NAME],
                "responses": {"200": _json(_POLICY), **_errors(403, 404)}},
        "put": {"summary": "Set the promotion policy (owner or admin)", "tags": ["governance"],
                "parameters": [_NAME], "requestBody": _body(_POLICY),
                "responses": {"200": _json(_POLICY), **_errors(400, 403, 404)}}},
    "/mlops/api/{kind}/{ref}/permissions": {
        "get": {"summary": "Owner, readers and writers of a model or an experiment",
                "tags": ["governance"],
                "parameters": [{**_p("kind", "models or experiments"), "schema": {
                    "type": "string", "enum": ["models", "experiments"]}},
                    _p("ref", "model name, or experiment name or id")],
                "responses": {"200": _json(_PERMS), **_errors(403, 404)}},
        "put": {"summary": "Set readers and writers, or transfer ownership (owner or admin)",
                "tags": ["governance"],
                "parameters": [{**_p("kind", "models or experiments"), "schema": {
                    "type": "string", "enum": ["models", "experiments"]}},
                    _p("ref", "model name, or experiment name or id")],
                "requestBody": _body(_PERMS),
                "responses": {"200": _json(_PERMS), **_errors(400, 403, 404)}}},
    "/mlops/api/models/{name}/versions/{ref}/card": {
        "get": {"summary": "Model card (markdown or html)", "tags": ["governance"],
                "parameters": [_NAME, _REFP, _q("format", "markdown (default) or html")],
                "responses": {"200": _json(_OBJ), **_errors(400, 403, 404)}},
        "put": {"summary": "Write the intended use", "tags": ["governance"],
                "parameters": [_NAME, _REFP],
                "requestBody": _body({"type": "object", "required": ["intended_use"],
                                      "properties": {"intended_use": {"type": "string"}}}),
                "responses": {"200": _json(_OBJ), **_errors(400, 403, 404)}}},
    "/mlops/api/audit": {"get": {
        "summary": "Audit events, newest first", "tags": ["governance"],
        "parameters": [*_AUDIT_FILTERS, _q("limit", "1-10000 (100)", {"type": "integer"}),
                       _q("before", "seq: the next page", {"type": "integer"})],
        "responses": {"200": _json({"type": "object", "properties": {
            "events": {"type": "array", "items": _OBJ},
            "next": {"type": ["integer", "null"]}}}), **_errors(400, 403)}}},
    "/mlops/api/audit/export": {"get": {
        "summary": "The audit trail as a CSV or JSON download", "tags": ["governance"],
        "parameters": [*_AUDIT_FILTERS, _q("format", "csv (default) or json")],
        "responses": {"200": {"description": "the file", "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array"}}}}, **_errors(400, 403)}}},
    "/mlops/api/audit/verify": {"get": {
        "summary": "Recompute the audit MAC chain and check the server's anchors",
        "tags": ["governance"],
        "responses": {"200": _json({"type": "object", "properties": {
            "ok": {"type": "boolean"}, "events": {"type": "integer"}, "head": _OBJ,
            "problems": {"type": "array", "items": _OBJ},
            "legacy": {"type": "integer"},
            "key_ids": {"type": "array", "items": {"type": "string"}},
            "anchors": {"type": ["object", "null"]}}}), **_errors(403)}}},
})

_RUN_PROPS: dict[str, Any] = {
    "id": {"type": "string"}, "name": {"type": "string"},
    "experiment_id": {"type": "string"}, "experiment_name": {"type": "string"},
    "status": {"type": "string", "enum": ["running", "finished", "failed", "killed"]},
    "user": {"type": "string"},
    "start_time": {"type": "integer", "description": "epoch milliseconds"},
    "end_time": {"type": ["integer", "null"]}, "duration": {"type": ["number", "null"]},
    "parent_run_id": {"type": ["string", "null"]},
    "params": {"type": "object", "additionalProperties": {"type": "string"}},
    "metrics": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
    "source": {"type": "object"},
}

SCHEMAS: dict[str, Any] = {
    "RequestStats": {"type": "object", "required": ["deployment", "buckets"], "properties": {
        "deployment": {"type": "string"}, "window_seconds": {"type": "integer"},
        "bucket_ms": {"type": "integer"}, "start": {"type": "integer"},
        "end": {"type": "integer"}, "requests": {"type": "integer"},
        "errors": {"type": "integer"}, "error_rate": {"type": ["number", "null"]},
        "rate": {"type": "number", "description": "requests/s over the window"},
        "recent_rate": {"type": "number", "description": "requests/s over its last minute"},
        "p50_ms": {"type": ["number", "null"]}, "p95_ms": {"type": ["number", "null"]},
        "latency_rows": {"type": "integer"},
        "sampled": {"type": "boolean", "description": "percentiles are of the newest "
                    "100,000 answered requests of the window"},
        "buckets": {"type": "array", "items": {"type": "object", "properties": {
            "start": {"type": "integer"}, "requests": {"type": "integer"},
            "errors": {"type": "integer"}, "rate": {"type": "number"},
            "p50_ms": {"type": ["number", "null"]},
            "p95_ms": {"type": ["number", "null"]}}}}}},
    "Deployment": {"type": "object", "properties": {
        "name": {"type": "string"}, "model": {"type": "string"},
        "environment": {"type": "string"}, "status": {"type": "string"},
        "port": {"type": "integer"}, "revision": {"type": "integer"}, "url": {"type": "string"},
        "desired": _OBJ, "observed": _OBJ, "token": {"type": "string"}}},
    "RegisteredModel": {"type": "object", "properties": {
        "name": {"type": "string"}, "description": {"type": "string"}, "tags": _OBJ,
        "created_at": {"type": "integer"}, "created_by": {"type": "string"},
        "version_count": {"type": "integer"}, "latest_version": {"type": ["integer", "null"]},
        "aliases": {"type": "object", "additionalProperties": {"type": "integer"}}}},
    "ModelVersion": {"type": "object", "properties": {
        "name": {"type": "string"}, "version": {"type": "integer"},
        "status": {"type": "string", "enum": ["pending", "ready", "failed"]},
        "run_id": {"type": "string"}, "model_path": {"type": "string"},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "archived": {"type": "boolean"}, "signature": {"type": ["object", "null"]},
        "metrics": _OBJ, "files": {"type": ["object", "null"]},
        "unsafe_serializer": {"type": "boolean"},
        "validation": {"type": ["object", "null"]}}},
    "ValidationReport": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "integer"},
        "passed": {"type": "boolean"}, "created_at": {"type": "integer"},
        "data": _OBJ, "results": {"type": "array", "items": _OBJ}}},
    "Lineage": {"type": "object", "properties": {
        "nodes": {"type": "array", "items": _OBJ}, "edges": {"type": "array", "items": _OBJ}}},
    "AlertRule": {"type": "object", "required": ["kind"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["drift_share", "column_drift", "metric",
                                            "latency_p99", "error_rate"]},
        "threshold": {"type": "number"}, "window": {"type": "string", "default": "1h"},
        "cooldown": {"type": "string", "default": "30m"}, "column": {"type": "string"},
        "metric": {"type": "string", "enum": ["accuracy", "f1", "rmse", "mae"]},
        "min_rows": {"type": "integer", "default": 30},
        "rows": {"type": "integer", "description": "drift rules: the newest N rows "
                 "instead of the time window"},
        "webhook": {"type": "string", "description": "public http(s) URL"},
        "action": {"type": "object", "properties": {
            "type": {"type": "string", "enum": ["retrain"]}, "parameters": _OBJ,
            "register_as": {"type": "string"}, "validate": _OBJ}}}},
    "Alert": {"type": "object", "properties": {
        "id": {"type": "string"}, "deployment": {"type": "string"},
        "rule_id": {"type": "string"}, "kind": {"type": "string"},
        "status": {"type": "string", "enum": ["firing", "acknowledged", "resolved"]},
        "message": {"type": "string"}, "value": {"type": ["number", "null"]},
        "threshold": {"type": ["number", "null"]}, "fired_at": {"type": "integer"},
        "updated_at": {"type": "integer"}, "acknowledged_at": {"type": ["integer", "null"]},
        "acknowledged_by": {"type": ["string", "null"]},
        "resolved_at": {"type": ["integer", "null"]},
        "data": {"type": "object", "description": "rule, webhook delivery, retrain outcome "
                 "(status, run_id, candidate_version, validation, output_notebook)"}}},
    "Error": {"type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string"}, "message": {"type": "string"},
        "position": {"type": "integer", "description": "offset in the filter (bad_filter)"},
        "field": {"type": "string"}}},
    "Experiment": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "created_at": {"type": "integer"}, "created_by": {"type": "string"},
        "tags": {"type": "object"}, "run_count": {"type": "integer"},
        "last_run_at": {"type": ["integer", "null"]}}},
    "Run": {"type": "object", "properties": _RUN_PROPS},
    "RunDetail": {"type": "object", "properties": {
        **_RUN_PROPS, "environment": {"type": "object"},
        "metric_keys": {"type": "array", "items": {"type": "string"}},
        "artifacts": {"type": "array", "items": {"type": "object"}},
        "datasets": {"type": "array", "items": {"type": "object"}},
        "error": {"type": ["string", "null"]}}},
}


# ---------------------------------------------------------------- schedules
_FIRING_PROPS = {
    "id": {"type": "string"}, "schedule_id": {"type": "string"},
    "scheduled_for": {"type": "integer", "description": "epoch ms"},
    "started_at": {"type": ["integer", "null"]}, "ended_at": {"type": ["integer", "null"]},
    "status": {"type": "string", "enum": ["running", "succeeded", "failed", "missed"]},
    "trigger": {"type": "string", "enum": ["cron", "catch-up", "manual"]},
    "run_id": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]}}
_TARGET = {"type": "object", "required": ["kind", "path"], "properties": {
    "kind": {"type": "string", "enum": ["notebook", "pipeline"]},
    "path": {"type": "string", "description": "relative to the Jupyter root"}}}
SCHEMAS["ScheduleFiring"] = {"type": "object", "properties": _FIRING_PROPS}
SCHEMAS["Schedule"] = {"type": "object", "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "cron": {"type": "string"},
    "timezone": {"type": "string"}, "description": {"type": "string"},
    "target": _TARGET, "parameters": {"type": "object"},
    "experiment": {"type": ["string", "null"]}, "paused": {"type": "boolean"},
    "created_by": {"type": "string"}, "created_at": {"type": "integer"},
    "updated_at": {"type": "integer"},
    "next_run_at": {"type": ["integer", "null"], "description": "null while paused"},
    "last": {"oneOf": [_ref("ScheduleFiring"), {"type": "null"}]},
    "missed": {"type": "integer"}, "running": {"type": "boolean"},
    "history": {"type": "array", "items": _ref("ScheduleFiring")}}}
_SCHEDULE_FIELDS = {
    "name": {"type": "string"}, "cron": {"type": "string", "description":
                                         "five fields, e.g. '0 2 * * *'"},
    "target": _TARGET, "parameters": {"type": "object"},
    "experiment": {"type": ["string", "null"]},
    "timezone": {"type": "string", "description": "IANA name, default UTC"},
    "paused": {"type": "boolean"}}
_SCHEDULE = _p("ref", "schedule id or name")
PATHS.update({
    "/mlops/api/schedules": {
        "get": {"summary": "Every schedule (notebooks and pipelines on cron)",
                "tags": ["schedules"], "responses": {"200": _json({
                    "type": "object", "properties": {"schedules": {
                        "type": "array", "items": _ref("Schedule")}}}), **_errors(403)}},
        "post": {"summary": "Schedule a notebook or pipeline file", "tags": ["schedules"],
                 "requestBody": _body({"type": "object",
                                       "required": ["name", "cron", "target"],
                                       "properties": _SCHEDULE_FIELDS}),
                 "responses": {"201": _json(_ref("Schedule"), "Created"),
                               **_errors(400, 403, 409)}}},
    "/mlops/api/schedules/preview": {
        "post": {"summary": "Describe a cron expression and list its next fire times",
                 "tags": ["schedules"],
                 "requestBody": _body({"type": "object", "required": ["cron"], "properties": {
                     "cron": {"type": "string"}, "timezone": {"type": "string"},
                     "count": {"type": "integer", "minimum": 1, "maximum": 20}}}),
                 "responses": {"200": _json({"type": "object", "properties": {
                     "cron": {"type": "string"}, "timezone": {"type": "string"},
                     "description": {"type": "string"},
                     "next": {"type": "array", "items": {"type": "integer"}}}}),
                     **_errors(400, 403)}}},
    "/mlops/api/schedules/{ref}": {
        "get": {"summary": "A schedule with its firings, newest first",
                "tags": ["schedules"],
                "parameters": [_SCHEDULE, _q("limit", "firings (1-1000, default 50)",
                                             {"type": "integer"})],
                "responses": {"200": _json(_ref("Schedule")), **_errors(400, 403, 404)}},
        "patch": {"summary": "Change a schedule ({\"paused\": true} pauses it)",
                  "tags": ["schedules"], "parameters": [_SCHEDULE],
                  "requestBody": _body({"type": "object", "properties": _SCHEDULE_FIELDS}),
                  "responses": {"200": _json(_ref("Schedule")),
                                **_errors(400, 403, 404, 409)}},
        "delete": {"summary": "Remove a schedule and its history", "tags": ["schedules"],
                   "parameters": [_SCHEDULE],
                   "responses": {"200": _json({"type": "object", "properties": {
                       "deleted": {"type": "string"}}}), **_errors(403, 404)}}},
    "/mlops/api/schedules/{ref}/run": {
        "post": {"summary": "Fire the schedule now (its outcome lands in the history)",
                 "tags": ["schedules"], "parameters": [_SCHEDULE],
                 "responses": {"202": _json(_ref("ScheduleFiring"), "Started"),
                               **_errors(400, 403, 404, 409)}}},
})
PATHS["/mlops/api/runs/{run_id}/notebook"]["get"]["parameters"].append(
    _q("artifact", "another stored .ipynb artifact of the run (e.g. output/out.ipynb, "
                   "the executed notebook of a papermill run); default: the source copy"))


_SCALAR = {"type": ["number", "string", "boolean", "null"]}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_EXPLANATION_PROPS: dict[str, Any] = {
    "task": {"type": "string", "enum": ["classification", "regression"]},
    "scoring": {"type": "string", "minLength": 1, "maxLength": 1000,
                "description": "what permutation importance measured the drop of"},
    "rows": {"type": "integer", "minimum": 1, "description": "rows of data explained"},
    "data_fingerprint": {"type": "string", "minLength": 1, "maxLength": 128},
    "local_method": {"type": "string", "minLength": 1, "maxLength": 1000, "description":
                     "shap.TreeExplainer, shap.LinearExplainer, shap.<other> or occlusion"},
    "target": {"type": "string", "minLength": 1, "maxLength": 1000,
               "description": "what the per-row values explain"},
    "importance": {"type": "array", "description": "descending by mean", "items": {
        "type": "object", "required": ["feature", "mean", "std"], "properties": {
            "feature": {"type": "string", "minLength": 1, "maxLength": 1000},
            "mean": _NUMBER_OR_NULL, "std": _NUMBER_OR_NULL}}},
    "partial_dependence": {"type": "array", "items": {
        "type": "object", "required": ["feature", "kind", "grid", "average"], "properties": {
            "feature": {"type": "string", "minLength": 1, "maxLength": 1000},
            "kind": {"type": "string", "enum": ["numeric", "categorical"]},
            "grid": {"type": "array", "items": _SCALAR},
            "average": {"type": "array", "items": _NUMBER_OR_NULL},
            "target": {"type": "string", "minLength": 1, "maxLength": 1000}}}},
    "local": {"type": "object", "required": ["features", "base_value", "rows"], "properties": {
        "features": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "base_value": _NUMBER_OR_NULL,
        "rows": {"type": "array", "items": {
            "type": "object", "required": ["index", "prediction", "values", "contributions"],
            "properties": {
                "index": {"type": "integer"}, "prediction": _NUMBER_OR_NULL,
                "base_value": _NUMBER_OR_NULL, "class": _SCALAR,
                "values": {"type": "array", "items": _SCALAR},
                "contributions": {"type": "array", "items": _NUMBER_OR_NULL}}}}}},
    "background": {"type": "object", "required": ["features", "values"], "description":
                   "per-feature reference (median / most frequent value)", "properties": {
                       "features": {"type": "array",
                                    "items": {"type": "string", "minLength": 1}},
                       "values": {"type": "array", "items": _SCALAR}}},
    "figures": {"type": "object", "description": "plotly figure dicts", "properties": {
        k: _OBJ for k in ("importance", "partial_dependence", "local")},
        "additionalProperties": False},
}
_EXPLANATION_STORED: dict[str, Any] = {
    "id": {"type": "string"}, "model": {"type": "string"}, "version": {"type": "integer"},
    "created_at": {"type": "integer", "description": "epoch ms"},
    "created_by": {"type": "string"}}
_EXPLANATION_REQUIRED = ["task", "scoring", "rows", "data_fingerprint", "local_method",
                         "target", "importance", "partial_dependence", "local",
                         "background"]
SCHEMAS.update({
    "Explanation": {"type": "object", "properties": {**_EXPLANATION_STORED,
                                                     **_EXPLANATION_PROPS}},
    "ExplanationSummary": {"type": "object", "properties": {
        **_EXPLANATION_STORED, **{k: v for k, v in _EXPLANATION_PROPS.items()
                                  if k not in ("figures", "local", "partial_dependence")}}},
})
PATHS.update({
    "/mlops/api/models/{name}/versions/{ref}/explanations": {
        "get": {"summary": "Explanations of a version (summaries without figures, local "
                           "rows and partial dependence), newest first",
                "tags": ["registry"], "parameters": [_NAME, _REFP],
                "responses": {"200": _json({"type": "object", "properties": {
                    "explanations": {"type": "array",
                                     "items": _ref("ExplanationSummary")}}}),
                    **_errors(400, 403, 404)}},
        "post": {"summary": "Store an explanation computed in a kernel (mlops.explain) on a "
                            "ready version (who may register versions may)",
                 "tags": ["registry"], "parameters": [_NAME, _REFP],
                 "requestBody": _body({"type": "object", "required": _EXPLANATION_REQUIRED,
                                       "properties": _EXPLANATION_PROPS,
                                       "additionalProperties": False}),
                 "responses": {"201": _json(_ref("Explanation"), "Created"),
                               **_errors(400, 403, 404, 422)}}},
    "/mlops/api/models/{name}/versions/{ref}/explanations/{explanation}": {
        "get": {"summary": "One explanation, full (id or latest)", "tags": ["registry"],
                "parameters": [_NAME, _REFP, _p("explanation", "explanation id or latest")],
                "responses": {"200": _json(_ref("Explanation")),
                              **_errors(400, 403, 404)}}},
})


_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "a fresh random key per write; resend it on a retry and the write is "
                   "applied once (the stored response comes back, header Idempotent-"
                   "Replayed: true). Reused with another request: 409 "
                   "idempotency_key_reused; while the first is running: 409 "
                   "request_in_progress (retry). Kept 24 h.",
    "schema": {"type": "string", "maxLength": 128}}
for _path, _verbs in PATHS.items():
    for _verb, _op in _verbs.items():
        if _verb in ("post", "put", "patch", "delete") and not _path.endswith("/predict"):
            _op.setdefault("parameters", []).append(_IDEMPOTENCY_KEY)
        # who may call it: the entry of the one access table the handlers enforce
        _entry = ROUTE_ACCESS.get(_path, {}).get(_verb)
        if _entry is not None:
            _op["x-mlops-access"] = _entry.to_dict()


def openapi_document(version: str) -> dict[str, Any]:
    """The OpenAPI document for this server version."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "mlops_jlab REST API", "version": version,
                 "description": "Authenticate with a Jupyter token "
                                "(Authorization: token <token>) or session cookie."},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "jupyterToken": {"type": "apiKey", "in": "header", "name": "Authorization"}}},
        "security": [{"jupyterToken": []}],
    }
