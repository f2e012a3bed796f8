"""What a process the server starts on a user's behalf may hold.

A schedule firing runs its owner's notebook; retraining runs the training notebook of
the rule's owner; a kernel runs whatever its user types. In team mode each of them acts
as exactly that user and nobody else:

- its environment keeps nothing that reaches the store directly or proves anything:
  no database URL or password, no artifact root or cloud credentials, no Jupyter,
  JupyterHub or mlops tokens, no audit key (:func:`scrubbed`);
- it gets ``MLOPS_JLAB_URI`` (this server's REST API) and ``MLOPS_JLAB_TOKEN``, a
  delegated token that acts as that user for a bounded time
  (:meth:`~.access.AccessControl.delegate`), so every call it makes goes through the
  same role, permission and audit checks as the user's own, and ``MLOPS_JLAB_USER``
  and ``mlops.configure(user=...)`` are refused there;
- its ``MLOPS_JLAB_HOME`` (the client's model cache) is a private scratch folder.

Firings and retraining (*jobs*) also run as a separate OS account in team mode
(:mod:`.job_account`), so hostile code cannot read what the server's own account can.

In local (single-user) mode the process is the user's own: it gets the store's
variables and ``MLOPS_JLAB_USER``, as before.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .job_account import JobAccount, JobAccounts, refuse_without_account

_SECRET_NAME = re.compile(
    r"(TOKEN|SECRET|PASSW|CREDENTIAL|_KEY$|_KEY_|APIKEY|AUTH|COOKIE|SESSION|"
    r"_URL$|_URI$|DSN$|DATABASE|REDIS|MONGO|POSTGRES|MYSQL|SQLALCHEMY)", re.I)
"""Names that hold credentials or point at a service holding data (connection URLs
carry passwords): dropped, whatever their prefix."""
_SECRET_PREFIXES = ("MLOPS_JLAB_", "AWS_", "AZURE_", "GOOGLE_", "GCP_", "GCS_", "PG",
                    "MYSQL", "DATABASE_", "JUPYTERHUB_", "JPY_", "SSH_", "KUBE")
_KEPT = frozenset({"MLOPS_JLAB_RUN_TAGS", "MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS",
                   "JPY_SESSION_NAME"})  # the notebook a kernel runs (the run stores it)


def is_secret(name: str) -> bool:
    """Whether an environment variable may reach the store or prove an identity."""
    if name in _KEPT:
        return False
    return name.upper().startswith(_SECRET_PREFIXES) or bool(_SECRET_NAME.search(name))


def scrubbed(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without any variable :func:`is_secret` names."""
    return {k: v for k, v in environ.items() if not is_secret(k)}


@dataclass(frozen=True)
class Job:
    """What a job process is started with (see :meth:`Delegation.job`)."""

    env: dict[str, str]
    account: JobAccount | None

    @property
    def options(self) -> dict[str, Any]:
        """Keyword arguments of :class:`subprocess.Popen` (none without an account)."""
        return self.account.process_options() if self.account else {}


class Delegation:
    """Builds the environment of a process that acts for one user.

    ``api_url`` (team mode) is this server's base URL as its children reach it; None
    means local mode, where children get ``store_env`` and ``MLOPS_JLAB_USER``."""

    def __init__(self, access: Any, api_url: Callable[[], str] | None,
                 store_env: Mapping[str, str], accounts: JobAccounts | None = None,
                 jobs_as_server_user: bool = False) -> None:
        self.access = access
        self.api_url = api_url
        self.store_env = dict(store_env)
        #: team mode: the OS accounts firings and retraining run as, one job each
        self.accounts = accounts
        #: team mode without accounts: run jobs as the server's own OS user anyway
        self.jobs_as_server_user = jobs_as_server_user

    @property
    def team(self) -> bool:
        """True when children reach the store only through the REST API."""
        return self.api_url is not None

    def check_jobs(self, what: str) -> None:
        """Raise :class:`~.job_account.JobsRefused` when this server does not run
        people's code on its host (team mode without a job account or the opt-in)."""
        if self.team and self.accounts is None and not self.jobs_as_server_user:
            raise refuse_without_account(what)

    @contextlib.contextmanager
    def job(self, user: str, purpose: str, ttl_seconds: float,
            base: Mapping[str, str] | None = None) -> Iterator[Job]:
        """A job (schedule firing, retraining) acting as ``user``, for as long as the
        ``with`` block runs: its environment and, in team mode, the job account it runs
        as, lent to it alone (:class:`~.job_account.JobAccounts`). The delegation ends
        with the block. Raises :class:`~.job_account.JobsRefused` as
        :meth:`check_jobs` does."""
        self.check_jobs(purpose)
        lent = self.accounts.lend(ttl_seconds) if self.team and self.accounts \
            else contextlib.nullcontext(None)
        with lent as account:
            env, release = self.environment(user, purpose, ttl_seconds, base, account)
            try:
                yield Job(env, account)
            finally:
                release()

    def environment(self, user: str, purpose: str, ttl_seconds: float,
                    base: Mapping[str, str] | None = None,
                    account: JobAccount | None = None
                    ) -> tuple[dict[str, str], Callable[[], None]]:
        """The environment for a process acting as ``user`` (run as ``account`` when
        given), and the function that ends the delegation (call it when the process is
        over)."""
        environ = dict(os.environ if base is None else base)
        if self.api_url is None:
            return {**environ, **self.store_env, "MLOPS_JLAB_USER": user}, lambda: None
        env = scrubbed(environ)
        token = self.access.delegate(user, purpose, ttl_seconds)
        scratch = tempfile.mkdtemp(prefix="mlops-delegated-")
        if account is not None:
            account.give(scratch)
            env.update(account.environment(scratch))
        env.update({"MLOPS_JLAB_URI": self.api_url(), "MLOPS_JLAB_TOKEN": token,
                    "MLOPS_JLAB_HOME": scratch})

        def release() -> None:
            try:
                self.access.revoke_delegation(token)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

        return env, release
