"""The host-local serving key: lets the Jupyter server call its workers without knowing
any deployment's bearer token (``internal token = HMAC(key, deployment name)``)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def serving_key(home: str | os.PathLike[str]) -> bytes:
    """The key in ``<home>/serving.key`` (created with mode 0600 on first use)."""
    path = Path(home) / "serving.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def internal_token(key: bytes, deployment: str) -> str:
    """The server-to-worker credential of one deployment."""
    return hmac.new(key, deployment.encode(), hashlib.sha256).hexdigest()
