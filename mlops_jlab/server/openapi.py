"""The OpenAPI 3.1 document of ``/mlops/api`` (kept beside the routes; a test checks
that every route is described)."""

from __future__ import annotations

from typing import Any

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


def _p(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


PATHS: dict[str, dict[str, Any]] = {
    "/mlops/api/version": {"get": {
        "summary": "Server version (frontend handshake)", "tags": ["server"],
        "responses": {"200": _json({"type": "object", "properties": {
            "version": {"type": "string"}, "api": {"type": "integer"}}}), **_errors(403)}}},
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
    "/mlops/api/runs": {"get": {
        "summary": "Search runs (cursor-paged)", "tags": ["tracking"],
        "parameters": [
            _q("experiment", "experiment id or name; omitted: all experiments"),
            _q("filter", "e.g. metrics.acc > 0.9 and params.model = 'rf'"),
            _q("order_by", "comma-separated, e.g. metrics.acc DESC,attributes.start_time"),
            _q("limit", "page size", {"type": "integer", "minimum": 1, "maximum": 1000,
                                      "default": 100}),
            _q("page_token", "next_page_token of the previous page")],
        "responses": {"200": _json({"type": "object", "properties": {
            "runs": {"type": "array", "items": _ref("Run")},
            "next_page_token": {"type": ["string", "null"]}}}), **_errors(400, 403, 404)}}},
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
