"""One resolver for every setting: env vars, jupyter-server traits, defaults.

| setting | env var | default |
| --- | --- | --- |
| home folder | ``MLOPS_JLAB_HOME`` | ``~/.mlops_jlab`` |
| database | ``MLOPS_JLAB_DB_URL`` | ``sqlite:///$MLOPS_JLAB_HOME/mlops.db`` |
| artifacts | ``MLOPS_JLAB_ARTIFACTS`` | ``$MLOPS_JLAB_HOME/artifacts`` |
| remote server | ``MLOPS_JLAB_URI``, ``MLOPS_JLAB_TOKEN`` | unset: local mode |
| acting user | ``MLOPS_JLAB_USER`` | the OS user |
| role of new users | ``MLOPS_JLAB_DEFAULT_ROLE`` | ``viewer`` (the first user is admin) |
| audit key file | ``MLOPS_JLAB_AUDIT_KEY_FILE`` | ``$MLOPS_JLAB_HOME/audit.key`` (0600) |

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
    user_explicit: bool = False
    """Whether ``user`` was asked for (an argument or ``MLOPS_JLAB_USER``) rather than
    taken from the OS: in team mode only the token decides who acts, so an explicit
    other user is refused (see :class:`mlops_jlab.client.http.HttpBackend`)."""
    audit_key_file: Path | None = None
    """The HMAC key file of the audit chain (see :mod:`mlops_jlab.governance.audit_keys`);
    :func:`resolve` always sets it."""

    @property
    def audit_anchors(self) -> str:
        """Default location of audit anchors: ``$MLOPS_JLAB_HOME/audit-anchors``."""
        return str(self.home / "audit-anchors")

    @property
    def remote(self) -> bool:
        """True when calls should go to a shared server over REST (team mode)."""
        return bool(self.uri and self.uri.startswith(("http://", "https://")))


def secret_paths(settings: Settings) -> list[str]:
    """Local files and folders that hold the store or prove anything: the home, a
    SQLite database file, a local artifact root, the audit key. Code run for a person
    as another OS account must not be able to read any of them."""
    from sqlalchemy.engine import make_url

    paths = [str(settings.home)]
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        paths.append(str(Path(str(url.database)).expanduser()))
    root = settings.artifacts
    if root.startswith("file://"):
        root = root[len("file://"):]
    if "://" not in root:
        paths.append(str(Path(root).expanduser()))
    if settings.audit_key_file is not None:
        paths.append(str(settings.audit_key_file))
    return paths


def _user_name(name: str) -> str:
    """The acting user as mlops_jlab compares names: case-folded; surrounding whitespace,
    control and bidi characters are refused (see :func:`.governance.roles.user_name`)."""
    from .errors import InvalidInput
    from .governance.roles import user_name

    try:
        return user_name(name)
    except InvalidInput as exc:
        raise InvalidInput(f"MLOPS_JLAB_USER (or the user setting): {exc.message}",
                           field="user") from None


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
    audit_key_file: str | os.PathLike[str] | None = None,
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
        user=_user_name(pick(user, "MLOPS_JLAB_USER") or _os_user()),
        user_explicit=pick(user, "MLOPS_JLAB_USER") is not None,
        default_role=pick(default_role, "MLOPS_JLAB_DEFAULT_ROLE") or "viewer",
        audit_key_file=Path(pick(audit_key_file, "MLOPS_JLAB_AUDIT_KEY_FILE")
                            or home_path / "audit.key").expanduser(),
    )


#: the environment variable of each setting a child process needs to reach the store
STORE_VARS = {"home": "MLOPS_JLAB_HOME", "db_url": "MLOPS_JLAB_DB_URL",
              "artifacts": "MLOPS_JLAB_ARTIFACTS", "uri": "MLOPS_JLAB_URI",
              "token": "MLOPS_JLAB_TOKEN", "audit_key_file": "MLOPS_JLAB_AUDIT_KEY_FILE"}


#: what a child of a team-mode (remote) process needs: the API and its token, no store
REMOTE_VARS = ("home", "uri", "token")


def store_attributes(settings: Settings) -> list[str]:
    """The settings a child process needs to reach what ``settings`` reach: the store
    itself in local mode; in team mode only the server's URL, the token and the home
    (its cache), never a database or an artifact root."""
    names = REMOTE_VARS if settings.remote else tuple(STORE_VARS)
    return [a for a in names if getattr(settings, a) not in (None, "")]


def store_env(settings: Settings, *, user: bool = False) -> dict[str, str]:
    """The ``MLOPS_JLAB_*`` variables that point a child process (a kernel, a scheduled
    run) at ``settings``' store; with ``user`` (local mode only: in team mode the token
    decides), acting as the same user."""
    out = {STORE_VARS[a]: str(getattr(settings, a)) for a in store_attributes(settings)}
    if user and not settings.remote:
        out["MLOPS_JLAB_USER"] = settings.user
    return out
