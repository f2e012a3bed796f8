"""The audit key: the HMAC-SHA256 key that chains audit events, kept outside the database.

The key file (default ``$MLOPS_JLAB_HOME/audit.key``, or ``MLOPS_JLAB_AUDIT_KEY_FILE``)
holds every key the store has used, one per line as ``<key id> <key in hex>``; the
last line is the current key, the lines before it verify events MACed before a
rotation. A key id is the first 16 hex digits of the key's sha256: it names a key
without revealing it. A file of exactly 32 raw bytes (``head -c 32 /dev/urandom``) is
read as one key too.

The file is created on first use, mode 0600, with 32 random bytes from
:mod:`secrets`. Creation is race-safe: the content is written to a private temporary
file (``O_CREAT | O_EXCL``) and published with :func:`os.link`, which fails when the
name exists, so two processes creating it at once agree on one key (the loser reads
the winner's file) and nobody ever reads a half-written one. A key file readable or
writable by group or others is refused (:class:`~mlops_jlab.errors.AuditKeyError`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AuditKeyError

KEY_BYTES = 32
HEADER = ("# mlops-jlab audit keys (HMAC-SHA256): <key id> <key in hex>, one per line.\n"
          "# The last line is the current key; keep the older lines, they verify the\n"
          "# events MACed before each rotation. Mode 0600; never share this file.\n")


def key_id(key: bytes) -> str:
    """The public name of ``key``: the first 16 hex digits of its sha256."""
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True)
class Keyring:
    """Audit keys by id, oldest first; the last one MACs new events."""

    keys: tuple[bytes, ...]
    ids: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise AuditKeyError("an audit keyring needs at least one key")
        for key in self.keys:
            if len(key) < 16:
                raise AuditKeyError("an audit key must have at least 16 bytes "
                                    f"(32 recommended), not {len(key)}")
        object.__setattr__(self, "ids", tuple(key_id(k) for k in self.keys))

    def __repr__(self) -> str:  # never print key material
        return f"Keyring(ids={list(self.ids)!r})"

    @property
    def current_id(self) -> str:
        """Id of the key that MACs new events."""
        return self.ids[-1]

    @property
    def current(self) -> bytes:
        """The key that MACs new events."""
        return self.keys[-1]

    def get(self, kid: str) -> bytes | None:
        """The key with id ``kid`` (None when this keyring does not hold it)."""
        for candidate, key in zip(self.ids, self.keys, strict=True):
            if candidate == kid:
                return key
        return None

    def rank(self, kid: str) -> int:
        """Position of ``kid`` in rotation order (-1 when unknown)."""
        return self.ids.index(kid) if kid in self.ids else -1

    def with_key(self, key: bytes) -> Keyring:
        """This keyring with ``key`` added as the current key."""
        return Keyring((*self.keys, key))

    def render(self) -> bytes:
        """The key file's text."""
        lines = [f"{kid} {key.hex()}\n" for kid, key in zip(self.ids, self.keys, strict=True)]
        return (HEADER + "".join(lines)).encode()


def parse(data: bytes, path: str = "audit key file") -> Keyring:
    """The keyring a key file holds (:class:`AuditKeyError` says what is wrong)."""
    if len(data) == KEY_BYTES:  # raw bytes: a line is longer than 32 characters
        return Keyring((data,))
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise AuditKeyError(f"{path} is neither 32 raw bytes nor lines of "
                            "'<key id> <hex key>'") from None
    keys: list[bytes] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError
            key = bytes.fromhex(parts[1])
        except ValueError:
            raise AuditKeyError(f"{path} line {number} is not '<key id> <hex key>'") from None
        if key_id(key) != parts[0]:
            raise AuditKeyError(f"{path} line {number}: key id {parts[0]} does not match "
                                "its key (the file was edited or damaged)")
        keys.append(key)
    if not keys:
        raise AuditKeyError(f"{path} holds no key")
    return Keyring(tuple(keys))


def _write_private(directory: Path, data: bytes) -> Path:
    """``data`` in a new mode-0600 temporary file of ``directory`` (fsynced)."""
    while True:
        tmp = directory / f".audit.key.{os.getpid()}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def _check_private(path: Path, st: os.stat_result) -> None:
    if os.name == "posix" and st.st_mode & 0o077:
        raise AuditKeyError(
            f"audit key file {path} is readable or writable by group or others (mode "
            f"{stat.S_IMODE(st.st_mode):04o}); the key is what makes the audit trail "
            f"tamper-evident: chmod 600 {path} (and rotate the key if others read it)",
            path=str(path))


def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    """What changes when the file is rewritten or replaced."""
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class KeyFile:
    """The key file of one store: loaded on first use (created when missing) and
    reloaded when it changes on disk (a rotation by another process)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()
        self._keyring: Keyring | None = None
        self._stamp: tuple[int, int, int, int] | None = None

    def __repr__(self) -> str:
        return f"KeyFile({str(self.path)!r})"

    def keyring(self, *, create: bool = True) -> Keyring | None:
        """The keys, current last; None when the file is missing and not ``create``.

        One ``stat`` per call: a file changed on disk (rotated elsewhere) is re-read."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if not create:
                return None
            self.create()
            st = os.stat(self.path)
        cached = self._keyring
        if cached is not None and _stamp(st) == self._stamp:
            return cached
        with self._lock, open(self.path, "rb") as handle:
            st = os.fstat(handle.fileno())
            _check_private(self.path, st)
            keyring = parse(handle.read(), str(self.path))
            self._keyring, self._stamp = keyring, _stamp(st)
            return keyring

    def create(self) -> bool:
        """Create the file with one fresh key unless it exists; True when this call
        created it (False: another process did, and its key is the one to use)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _write_private(self.path.parent, Keyring((secrets.token_bytes(KEY_BYTES),))
                             .render())
        try:
            os.link(tmp, self.path)  # atomic, and fails when the name exists
            return True
        except FileExistsError:
            return False
        except OSError as exc:  # no hard links here (some network/FUSE filesystems)
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                                 errno.EMLINK, errno.ENOSYS):
                raise
            return self._create_exclusive(tmp.read_bytes())
        finally:
            tmp.unlink(missing_ok=True)

    def _create_exclusive(self, data: bytes) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def replace(self, keyring: Keyring) -> None:
        """Write ``keyring`` as the file's new content, atomically (mode 0600): a key
        rotation adds a key to what :meth:`keyring` returned. Callers serialize
        rotations (:meth:`AuditLog.rotate_key` holds the chain head's lock)."""
        tmp = _write_private(self.path.parent, keyring.render())
        try:
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        with self._lock:
            self._keyring, self._stamp = None, None
