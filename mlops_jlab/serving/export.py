"""Export a deployment as a self-contained bundle served by the same worker.

The bundle holds one verified model folder per version the deployment uses, its
desired state and hashed token (``deployment.json``), ``requirements.txt``, ``start.sh``
(``python -m mlops_jlab.serving.worker --bundle .``), a ``Dockerfile`` and a Kubernetes
manifest.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import stat
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import Conflict
from ..models.loader import check_model_paths
from ..registry import RegistryService
from .service import ServingService

START = """#!/usr/bin/env sh
# Serve this bundle with the mlops_jlab model-server worker.
# PORT (default 8080), HOST (default 0.0.0.0), REPLICAS (default 1: processes sharing the port)
set -e
cd "$(dirname "$0")"
PORT="${PORT:-8080}"
HOST="${HOST:-0.0.0.0}"
REPLICAS="${REPLICAS:-1}"
PY="${PYTHON:-python3}"
i=1
while [ "$i" -lt "$REPLICAS" ]; do
  "$PY" -m mlops_jlab.serving.worker --bundle . --port "$PORT" --host "$HOST" --replica "$i" &
  i=$((i + 1))
done
exec "$PY" -m mlops_jlab.serving.worker --bundle . --port "$PORT" --host "$HOST" --replica 0
"""

DOCKERFILE = """FROM python:3.11-slim
WORKDIR /srv/model
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV PORT=8080 HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK CMD python -c "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:'+os.environ['PORT']+'/v1/health')"
CMD ["sh", "start.sh"]
"""

K8S = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: model
          image: {name}:{revision}
          ports: [{{containerPort: 8080}}]
          readinessProbe:
            httpGet: {{path: /v1/health, port: 8080}}
          livenessProbe:
            httpGet: {{path: /v1/health, port: 8080}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def export_deployment(serving: ServingService, registry: RegistryService, name: str,
                      target: str | Path) -> Path:
    """Write the bundle of deployment ``name`` into ``target`` (must be empty or new)."""
    deployment = serving.get(name)
    out = Path(target)
    if out.exists() and any(out.iterdir()):
        raise Conflict(f"{out} is not empty")
    desired = deployment.desired
    versions = {t["version"] for t in desired["traffic"]}
    if desired.get("shadow"):
        versions.add(desired["shadow"])
    requirements: dict[str, str] = {}
    for number in sorted(versions):
        version = registry.get_version(deployment.model, number)
        folder = out / "models" / str(number)
        folder.mkdir(parents=True)
        check_model_paths(version.files or {})  # stored paths are re-checked on the way out
        for path, sha in (version.files or {}).items():
            data = registry.artifacts.read_bytes(sha)
            if hashlib.sha256(data).hexdigest() != sha:
                raise Conflict(f"{deployment.model} v{number}: {path} fails its sha256 check")
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(data)
        manifest = json.loads((folder / "manifest.json").read_text())
        requirements.update(manifest.get("requirements") or {})
    spec: dict[str, Any] = {"name": deployment.name, "model": deployment.model,
                            "revision": deployment.revision, "desired": desired,
                            "token_sha256": serving.token_hash_of(name)}
    if any(mode == "hash" for mode in (desired.get("pii") or {}).values()):
        # the bundle hashes PII with a key of its own: the store's key stays on its host
        spec["pii_key"] = secrets.token_hex(32)
    (out / "deployment.json").write_text(json.dumps(spec, indent=2))
    lines = [f"mlops_jlab=={__version__}"] + [f"{k}=={v}" for k, v in sorted(requirements.items())]
    (out / "requirements.txt").write_text("\n".join(lines) + "\n")
    start = out / "start.sh"
    start.write_text(START)
    start.chmod(start.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    (out / "Dockerfile").write_text(DOCKERFILE)
    (out / "kubernetes.yaml").write_text(K8S.format(name=deployment.name,
                                                    replicas=desired["replicas"],
                                                    revision=deployment.revision))
    return out
