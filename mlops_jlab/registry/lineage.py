"""Lineage of a model version: version → run → datasets, notebook, commit, parent runs."""

from __future__ import annotations

import os
from typing import Any

from ..tracking.service import TrackingService
from ..tracking.snapshot import stored_notebook
from .records import ModelVersion

EDGE_BY_ROLE = {"train": "trained_on", "test": "tested_on"}


def notebook_relative(abspath: str | None, root_dir: str | None) -> str | None:
    """A notebook path relative to the Jupyter root, or None when outside it."""
    if not abspath or not root_dir:
        return None
    try:
        rel = os.path.relpath(abspath, root_dir)
    except ValueError:
        return None
    return None if rel.startswith("..") else rel.replace(os.sep, "/")


def build_lineage(version: ModelVersion, tracking: TrackingService,
                  root_dir: str | None = None) -> dict[str, Any]:
    """Nodes and edges (JSON-ready) describing where a version comes from."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []
    seen: set[str] = set()

    def node(node_id: str, kind: str, label: str, data: dict[str, Any]) -> str:
        if node_id not in seen:
            seen.add(node_id)
            nodes.append({"id": node_id, "kind": kind, "label": label, "data": data})
        return node_id

    root = node(f"model_version:{version.name}/{version.version}", "model_version",
                f"{version.name} v{version.version}",
                {"name": version.name, "version": version.version, "aliases": version.aliases,
                 "status": version.status, "files": version.files})
    run = tracking.get_run(version.run_id)
    run_node = node(f"run:{run.id}", "run", run.name,
                    {"run_id": run.id, "experiment": run.experiment_name, "status": run.status,
                     "user": run.user, "start_time": run.start_time})
    edges.append({"source": root, "target": run_node, "kind": "produced_by"})
    _run_inputs(run, run_node, node, edges, root_dir)
    child, parent_id = run_node, run.parent_run_id
    depth = 0
    while parent_id and depth < 20:
        parent = tracking.get_run(parent_id)
        parent_node = node(f"run:{parent.id}", "run", parent.name,
                           {"run_id": parent.id, "experiment": parent.experiment_name,
                            "status": parent.status, "user": parent.user,
                            "start_time": parent.start_time})
        edges.append({"source": child, "target": parent_node, "kind": "child_of"})
        _run_inputs(parent, parent_node, node, edges, root_dir)
        child, parent_id, depth = parent_node, parent.parent_run_id, depth + 1
    return {"nodes": nodes, "edges": edges}


def _run_inputs(run: Any, run_node: str, node: Any, edges: list[dict[str, str]],
                root_dir: str | None) -> None:
    for d in run.datasets:
        ds = node(f"dataset:{d['id']}", "dataset", f"{d['name']} v{d['version']} ({d['role']})",
                  {"name": d["name"], "version": d["version"], "role": d["role"],
                   "fingerprint": d["fingerprint"], "rows": d["rows"]})
        edges.append({"source": run_node, "target": ds,
                      "kind": EDGE_BY_ROLE.get(d["role"], "used")})
    src = run.source or {}
    copy = stored_notebook(run.artifacts)
    stored = copy["path"] if copy else None
    abspath = src.get("notebook_abspath")
    if abspath or stored:
        label = os.path.basename(abspath) if abspath else str(stored).rsplit("/", 1)[-1]
        nb = node(f"notebook:{run.id}", "notebook", label,
                  {"notebook_path": notebook_relative(abspath, root_dir),
                   "notebook_abspath": abspath, "notebook_hash": src.get("notebook_hash"),
                   "artifact": stored, "run_id": run.id})
        edges.append({"source": run_node, "target": nb, "kind": "source"})
    if src.get("git_commit"):
        commit = node(f"commit:{src['git_commit']}", "commit", src["git_commit"][:7],
                      {"commit": src["git_commit"], "branch": src.get("git_branch"),
                       "repo": src.get("git_repo")})
        edges.append({"source": run_node, "target": commit, "kind": "code"})
