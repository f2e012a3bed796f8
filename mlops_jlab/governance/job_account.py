"""The operating-system account that runs people's code on the MLOps server's host.

A schedule firing runs its owner's notebook and retraining runs the training notebook
of an alert rule's owner. On a team server that code is hostile until proven otherwise,
and a delegated token (:mod:`.delegation`) only bounds what it can do *through the
API*. Run as the server's own OS user, it could still read what that user can: the
server's ``/proc/<pid>/environ`` (its Jupyter token, the database URL), a local SQLite
store, the audit key. So in team mode these processes run as a separate account::

    c.MlopsJlab.job_users = ["mlops-job1", "mlops-job2"]   # unprivileged, not the server's

:class:`JobAccounts` lends each account to one job at a time (two people's jobs on one
account could read each other's environment). :class:`JobAccount` resolves an account
and gives :mod:`subprocess` what it needs to start a process as it (uid, gid, no
supplementary groups, a private umask, its own session). Starting a process as another
account needs the server to run as root (or with ``CAP_SETUID``/``CAP_SETGID``); the
server checks this when it starts, not when the first firing is due.

Without job accounts a team server refuses firings and retraining (they would run as
the server's own user), unless ``c.MlopsJlab.jobs_as_server_user = True`` says that
every person who may schedule notebooks or attach retraining to an alert rule is
trusted on this host.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import stat
import sys
import sysconfig
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, Conflict, PermissionDenied


@dataclass(frozen=True)
class JobAccount:
    """An unprivileged OS account, resolved from its name (see the module docstring)."""

    name: str
    uid: int
    gid: int

    @classmethod
    def resolve(cls, name: str) -> JobAccount:
        """The account called ``name``; :class:`ConfigurationError` when it does not
        exist, is root or the server's own account, or this process cannot switch to it."""
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise ConfigurationError(
                f"job account {name!r} is not an account on this host (create it with "
                f"`useradd --system {name}`)") from None
        if entry.pw_uid == 0:
            raise ConfigurationError(f"job account {name!r} is root: it must be an "
                                     "unprivileged account")
        if entry.pw_uid == os.geteuid():
            raise ConfigurationError(
                f"job account {name!r} is the account this server runs as: jobs would read "
                "its environment, store and keys")
        if os.geteuid() != 0:
            raise ConfigurationError(
                f"running jobs as {name!r} needs this server to run as root (or with "
                "CAP_SETUID and CAP_SETGID)")
        return cls(name, entry.pw_uid, entry.pw_gid)

    def can_read(self, path: str | os.PathLike[str]) -> bool:
        """Whether this account may read ``path`` by its mode bits: every folder above
        it traversable and the path itself readable (ACLs are not consulted)."""
        try:
            target = Path(path).resolve()
            return all(self._allowed(folder, 0o1) for folder in reversed(target.parents)) \
                and self._allowed(target, 0o4)
        except OSError:
            return False

    def _allowed(self, path: Path, bit: int) -> bool:
        info = os.stat(path)
        if info.st_uid == self.uid:
            return bool(info.st_mode & (bit << 6))
        if info.st_gid == self.gid or info.st_gid in self._groups():
            return bool(info.st_mode & (bit << 3))
        return bool(info.st_mode & bit)

    def _groups(self) -> list[int]:
        return [g.gr_gid for g in grp.getgrall() if self.name in g.gr_mem]

    def exposed(self, paths: Iterable[str | os.PathLike[str] | None]) -> list[str]:
        """Those of ``paths`` (the store's home, database file, artifact root, audit
        key) that this account could read: the server refuses to run jobs as it then."""
        return [str(p) for p in paths if p and os.path.exists(p) and self.can_read(p)]

    def unreachable_python(self) -> list[str]:
        """The parts of this server's Python a job needs but this account cannot read
        (interpreter, standard library, installed packages, this package): jobs run the
        same Python."""
        paths = sysconfig.get_paths()
        parts = [os.path.realpath(sys.executable), paths["stdlib"], paths["purelib"],
                 str(Path(__file__).resolve().parents[1])]
        return [p for p in parts if not self.can_read(p)]

    def process_options(self) -> dict[str, Any]:
        """Keyword arguments of :class:`subprocess.Popen` that start a process as this
        account: its uid and gid only, files private to it, its own session."""
        return {"user": self.uid, "group": self.gid, "extra_groups": [], "umask": 0o077,
                "start_new_session": True}

    def give(self, path: str | os.PathLike[str]) -> None:
        """Make ``path`` (a folder the server created for a job) the account's own."""
        os.chown(path, self.uid, self.gid)
        os.chmod(path, 0o700)

    def environment(self, home: str) -> dict[str, str]:
        """Variables that point the job's per-user folders at ``home`` (its scratch
        folder) instead of the server account's."""
        return {"HOME": home, "USER": self.name, "LOGNAME": self.name,
                "JUPYTER_RUNTIME_DIR": os.path.join(home, ".jupyter-runtime"),
                "IPYTHONDIR": os.path.join(home, ".ipython"),
                "XDG_CACHE_HOME": os.path.join(home, ".cache"),
                "XDG_CONFIG_HOME": os.path.join(home, ".config"),
                "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
                "MPLCONFIGDIR": os.path.join(home, ".matplotlib")}


class JobAccounts:
    """The job accounts of a server, each lent to one job at a time.

    Two jobs of different people never share an account: processes of one account can
    read each other's environment (``/proc/<pid>/environ``) and files, so a job could
    otherwise take another person's delegated token. A job waits for a free account;
    when it gives its account back, every process still running as the account is
    killed and the files it left in the shared temporary folders are removed, so
    nothing of one job reaches the next."""

    def __init__(self, accounts: Iterable[JobAccount]) -> None:
        self.accounts = list(accounts)
        uids = [a.uid for a in self.accounts]
        if not uids or len(set(uids)) != len(uids):
            raise ConfigurationError("job accounts must be distinct accounts (uids "
                                     f"{uids})")
        self._free = list(self.accounts)
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def lend(self, timeout: float | None = None) -> Iterator[JobAccount]:
        """A free account for one job (waits up to ``timeout`` seconds, then
        :class:`~..errors.Conflict`); cleaned and given back afterwards."""
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._free), timeout):
                raise Conflict(f"all {len(self.accounts)} job accounts are busy; try "
                               "again when a running job ends")
            account = self._free.pop(0)
        try:
            yield account
        finally:
            try:
                end_processes_of(account.uid)
                remove_files_of(account.uid)
            finally:
                with self._changed:
                    self._free.append(account)
                    self._changed.notify()


SHARED_TEMP = ("/tmp", "/var/tmp", "/dev/shm")


def remove_files_of(uid: int, folders: Iterable[str] = SHARED_TEMP) -> int:
    """Remove what ``uid`` owns anywhere under the shared temporary folders (without
    following links) and its System V shared memory, semaphores and message queues:
    nothing one job leaves reaches the next job of the account. How many were removed."""
    removed = 0
    for folder in folders:
        for parent, dirs, files in os.walk(folder, topdown=True):
            for name in [*dirs, *files]:
                path = os.path.join(parent, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                if info.st_uid != uid:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(path, ignore_errors=True)
                    dirs.remove(name)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                removed += 1
    return removed + _remove_ipc_of(uid)


def _remove_ipc_of(uid: int) -> int:
    """Remove the System V IPC objects ``uid`` owns (``ipcrm`` for one account)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    removed = 0
    for kind, control in (("shm", "shmctl"), ("sem", "semctl"), ("msg", "msgctl")):
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="ascii") as f:
                header, *rows = [line.split() for line in f]
        except (OSError, ValueError):
            continue
        id_column, uid_column = 1, header.index("uid")
        for row in rows:
            if len(row) > uid_column and row[uid_column] == str(uid):
                if kind == "sem":
                    done = getattr(libc, control)(int(row[id_column]), 0, 0)
                else:
                    done = getattr(libc, control)(int(row[id_column]), 0, None)
                removed += done == 0
    return removed


def end_processes_of(uid: int) -> int:
    """SIGKILL every process whose real user id is ``uid``; how many there were."""
    killed = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="ascii",
                      errors="replace") as f:
                line = next((x for x in f if x.startswith("Uid:")), "")
            if line.split()[1:2] == [str(uid)]:
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        except (OSError, IndexError):
            continue  # gone meanwhile
    return killed


def end_session(pid: int) -> None:
    """Kill what is left of the process group ``pid`` led (a job started in its own
    session): nothing a job starts, kernels included, outlives it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def copy_job_file(source: Path, target: Path, uid: int) -> bool:
    """Copy a file a job wrote in its own folder to ``target`` (a folder of the
    server's). Only a regular file the job's account owns is copied, opened without
    following links: a job cannot make the server copy a file it may not read itself.
    Whether it was copied."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != uid:
            return False
        with open(target, "wb") as out:
            shutil.copyfileobj(f, out)
    return True


class JobsRefused(PermissionDenied):
    """A team server without a job account does not run people's code on its host."""

    code = "job_account_required"


def refuse_without_account(what: str) -> JobsRefused:
    """The error a team server without job accounts answers for ``what``."""
    return JobsRefused(
        f"{what} would run on the MLOps server's host as the server's own OS user, which "
        "can read the store and its keys: this team server has no job account. An admin "
        "sets c.MlopsJlab.job_users (unprivileged accounts; see docs/team-mode.md), or "
        "c.MlopsJlab.jobs_as_server_user = True if everyone who may schedule notebooks "
        "or attach retraining is trusted on this host")
