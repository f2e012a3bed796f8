"""One resolver for every setting: env vars, jupyter-server traits, defaults.

| setting | env var | default |
| --- | --- | --- |
| home folder | ``MLOPS_JLAB_HOME`` | ``~/.mlops_jlab`` |
| database | ``MLOPS_JLAB_DB_URL`` | ``sqlite:///$MLOPS_JLAB_HOME/mlops.db`` |
| artifacts | ``MLOPS_JLAB_ARTIFACTS`` | ``$MLOPS_JLAB_HOME/artifacts`` |
| remote server | ``MLOPS_JLAB_URI``, ``MLOPS_JLAB_TOKEN`` | unset: local mode |
| acting user | ``MLOPS_JLAB_USER`` | the OS user |
| role of new users | ``MLOPS_JLAB_DEFAULT_ROLE`` | ``viewer`` (the first user is admin) |

Explicit arguments (e.g. the server's traits) win over env vars, which win over defaults.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Resolved configuration of one mlops_jlab process."""

    home: Path
    db_url: str
    artifacts: str
    uri: str | None
    token: str | None
    user: str
    default_role: str = "viewer"

    @property
    def remote(self) -> bool:
        """True when calls should go to a shared server over REST (team mode)."""
        return bool(self.uri and self.uri.startswith(("http://", "https://")))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers)
        return os.environ.get("USER") or "unknown"


def resolve(
    *,
    home: str | os.PathLike[str] | None = None,
    db_url: str | None = None,
    artifacts: str | None = None,
    uri: str | None = None,
    token: str | None = None,
    user: str | None = None,
    default_role: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from explicit values, then ``environ`` (default ``os.environ``)."""
    env = os.environ if environ is None else environ

    def pick(explicit: object, var: str) -> str | None:
        if explicit not in (None, ""):
            return str(explicit)
        value = env.get(var)
        return value if value else None

    home_path = Path(pick(home, "MLOPS_JLAB_HOME") or "~/.mlops_jlab").expanduser()
    db = pick(db_url, "MLOPS_JLAB_DB_URL") or f"sqlite:///{home_path / 'mlops.db'}"
    arts = pick(artifacts, "MLOPS_JLAB_ARTIFACTS") or str(home_path / "artifacts")
    return Settings(
        home=home_path,
        db_url=db,
        artifacts=arts,
        uri=pick(uri, "MLOPS_JLAB_URI"),
        token=pick(token, "MLOPS_JLAB_TOKEN"),
        user=pick(user, "MLOPS_JLAB_USER") or _os_user(),
        default_role=pick(default_role, "MLOPS_JLAB_DEFAULT_ROLE") or "viewer",
    )


#: the environment variable of each setting a child process needs to reach the store
STORE_VARS = {"home": "MLOPS_JLAB_HOME", "db_url": "MLOPS_JLAB_DB_URL",
              "artifacts": "MLOPS_JLAB_ARTIFACTS", "uri": "MLOPS_JLAB_URI",
              "token": "MLOPS_JLAB_TOKEN"}


def store_env(settings: Settings, *, user: bool = False) -> dict[str, str]:
    """The ``MLOPS_JLAB_*`` variables that point a child process (a kernel, a scheduled
    run) at ``settings``' store; with ``user``, acting as the same user."""
    out = {var: str(getattr(settings, attr)) for attr, var in STORE_VARS.items()
           if getattr(settings, attr) not in (None, "")}
    if user:
        out["MLOPS_JLAB_USER"] = settings.user
    return out
