"""Who may do what: users and their roles, per-resource permissions, API tokens.

Every service calls :meth:`AccessControl.require` once, inside the write transaction
of the change it is about to make, so the check and the change see the same state and
every face (Python API, magics, REST, papermill) is held to the same rules.

Users are provisioned on their first write: the first user of an empty store becomes
admin, later ones get the configured default role (viewer unless configured).

Permissions on an experiment or a model sit on top of roles: an owner (its creator
unless transferred), ``writers`` and ``readers``. Empty lists leave the resource open
to every role holder; a non-empty ``writers`` list restricts changes to the owner,
the writers and admins; a non-empty ``readers`` list restricts reading to them and
the readers.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ..errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from ..store import codec
from ..store import schema as s
from ..store.db import Database
from .audit import AuditLog
from .roles import (
    ACTIONS,
    ROLES,
    allows,
    capabilities,
    fold,
    is_system,
    role_name,
    same_user,
    user_name,
)

RESOURCE_TYPES = ("experiment", "model")
TOKEN_PREFIX = "mlops_"
DELEGATED_PREFIX = "mlops_d_"
"""Delegated tokens (:meth:`AccessControl.delegate`) start so (a user's own token may
too, by chance: both tables are asked)."""


def _now() -> int:
    from ..tracking.service import now_ms

    return now_ms()


# Plain SQL for the two lookups every governed write makes (see AuditLog.append).
_ROLE_OF = "SELECT role FROM users WHERE name = {mark}"
_PERMISSIONS_OF = ("SELECT owner, readers, writers FROM permissions "
                   "WHERE resource_type = {mark} AND resource = {mark}")


def _json_list(value: Any) -> list[str]:
    """A JSON column read through the driver: text (SQLite) or parsed (psycopg)."""
    return list(codec.loads(value) if isinstance(value, (str, bytes)) else value or [])


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def token_digest(token: str) -> str:
    """How an API token is stored (sha256; the token itself is shown once)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class User:
    """A user with a role."""

    name: str
    role: str
    created_at: int
    granted_by: str | None = None
    granted_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Permissions:
    """Owner, readers and writers of one experiment or model."""

    resource_type: str
    resource: str
    owner: str
    readers: list[str] = field(default_factory=list)
    writers: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "readers": self.readers, "writers": self.writers}

    def may_write(self, user: str) -> bool:
        """Whether ``user`` may change the resource (names compare case-folded)."""
        return not self.writers or same_user(user, self.owner) or \
            fold(user) in {fold(w) for w in self.writers}

    def may_read(self, user: str) -> bool:
        """Whether ``user`` may read the resource (names compare case-folded)."""
        return (not self.readers or same_user(user, self.owner)
                or fold(user) in {fold(u) for u in (*self.writers, *self.readers)})


class AccessControl:
    """Roles, permissions and tokens of one store; appends to its audit trail."""

    def __init__(self, db: Database, audit: AuditLog | None = None, *,
                 default_role: str = "viewer") -> None:
        self.db = db
        self.audit = audit or AuditLog(db)
        self.default_role = role_name(default_role)

    # ---------------------------------------------------------------- roles
    def role_of(self, conn: Connection, user: str, *, provision: bool = False) -> str:
        """The role of ``user``; unknown users get the default role (admin for the
        first user of an empty store), stored when ``provision`` (a write transaction)."""
        if is_system(user):
            return "admin"
        row = self._user_row(conn, user)
        if row is None and provision and conn.dialect.name == "postgresql":
            # Two new users at once must not both find the store empty (and both
            # become admin): take the audit head's row lock, then look again.
            # (SQLite's write transactions are serialized already.)
            conn.exec_driver_sql("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
            row = self._user_row(conn, user)
        if row is not None:
            return row[1]
        first = not conn.execute(select(func.count()).select_from(s.users)).scalar()
        role = "admin" if first else self.default_role
        if provision:
            if user_name(user) != user:  # every entry point normalises: a bug if not
                raise InvalidInput(f"user name {user!r} is not normalised (expected "
                                   f"{user_name(user)!r})", field="user")
            now = _now()
            conn.execute(insert(s.users).values(name=user, role=role, created_at=now))
            self.audit.append(conn, user, "user.create", "user", user, None,
                              {"role": role, "reason": "first user of the store" if first
                               else "default role"}, time=now)
        return role

    @staticmethod
    def _user_row(conn: Connection, user: str) -> tuple[str, str] | None:
        """``(stored name, role)`` of ``user``: the row of that exact name, else one
        stored before names were normalised whose case-fold is the same (the
        normalised spelling first). No migration: such rows keep their spelling."""
        row = conn.exec_driver_sql(_ROLE_OF.format(mark=_mark(conn)), (user,)).first()
        if row is not None:
            return user, str(row[0])
        key = fold(user)
        legacy = sorted((str(r[0]), str(r[1])) for r in
                        conn.exec_driver_sql("SELECT name, role FROM users")
                        if fold(str(r[0])) == key)
        legacy.sort(key=lambda r: r[0] != key)
        return legacy[0] if legacy else None

    def require(self, conn: Connection, user: str, action: str,
                resource: tuple[str, str] | None = None) -> str:
        """Raise :class:`PermissionDenied` unless ``user`` may take ``action`` (on
        ``resource``: ``("experiment", id)`` or ``("model", name)``); returns the role."""
        role = self.role_of(conn, user, provision=True)
        if not allows(role, action):
            needed = ACTIONS[action]
            raise PermissionDenied(
                f"{user} is a {role}; {action.replace('_', ' ')} takes the {needed} role "
                "(an admin can grant it: mlops-jlab users grant USER ROLE)", needed=needed)
        if resource is not None and role != "admin":
            perms = self._permissions_row(conn, *resource)
            if perms is not None and not perms.may_write(user):
                raise PermissionDenied(
                    f"{resource[0]} {resource[1]!r} is writable only by its owner "
                    f"{perms.owner!r}" + (f" and {', '.join(perms.writers)}"
                                         if perms.writers else ""))
        return role

    def check_read(self, conn: Connection, user: str | None, resource_type: str,
                   resource: str) -> None:
        """:class:`PermissionDenied` unless ``user`` may read the resource (None: the
        platform itself, always allowed)."""
        if user is None or is_system(user):
            return
        perms = self._permissions_row(conn, resource_type, resource)
        if perms is not None and not perms.may_read(user) and \
                self.role_of(conn, user) != "admin":
            raise PermissionDenied(f"{resource_type} {resource!r} is readable only by "
                                   f"its owner {perms.owner!r} and the users it lists")

    def hidden(self, conn: Connection, user: str | None, resource_type: str) -> set[str]:
        """Resources of that type ``user`` may not read (to leave out of listings)."""
        if user is None or is_system(user):
            return set()
        rows = conn.execute(select(s.permissions).where(
            s.permissions.c.resource_type == resource_type)).all()
        out = {r.resource for r in rows if not self._perms(r).may_read(user)}
        if out and self.role_of(conn, user) == "admin":
            return set()
        return out

    def whoami(self, user: str) -> dict[str, Any]:
        """``{"user", "role", "can": {action: bool}}`` (provisions the user)."""
        with self.db.write() as conn:
            role = self.role_of(conn, user, provision=not is_system(user))
        return {"user": user, "role": role, "can": capabilities(role)}

    def rotate_audit_key(self, actor: str) -> dict[str, Any]:
        """Switch the audit chain to a fresh key (admins only); the old keys stay in the
        key file to verify older events. See :meth:`AuditLog.rotate_key`."""
        with self.db.write() as conn:
            self.require(conn, actor, "admin")
            return self.audit.rotate_key(conn, actor)

    def users(self) -> list[User]:
        """Every known user, by name."""
        with self.db.read() as conn:
            rows = conn.execute(select(s.users).order_by(s.users.c.name)).all()
        return [User(r.name, r.role, r.created_at, r.granted_by, r.granted_at) for r in rows]

    def grant(self, actor: str, user: str, role: str) -> User:
        """Give ``user`` a role (admins only; the last admin cannot step down)."""
        user, role = user_name(user), role_name(role)
        with self.db.write() as conn:
            self.require(conn, actor, "admin")
            stored = self._user_row(conn, user)  # a legacy spelling keeps its row
            row = None if stored is None else conn.execute(
                select(s.users).where(s.users.c.name == stored[0])).first()
            before = None if row is None else {"role": row.role}
            if row is not None and row.role == "admin" and role != "admin":
                admins = conn.execute(select(func.count()).select_from(s.users)
                                      .where(s.users.c.role == "admin")).scalar() or 0
                if admins <= 1:
                    raise RuleViolation(f"{user} is the last admin; grant admin to someone "
                                        "else first")
            now = _now()
            if row is None:
                conn.execute(insert(s.users).values(name=user, role=role, created_at=now,
                                                    granted_by=actor, granted_at=now))
            else:
                conn.execute(update(s.users).where(s.users.c.name == row.name)
                             .values(role=role, granted_by=actor, granted_at=now))
            self.audit.append(conn, actor, "role.grant", "user", user, before,
                              {"role": role}, time=now)
            created = row.created_at if row is not None else now
        return User(user, role, created, actor, now)

    # ---------------------------------------------------------------- API tokens
    def issue_token(self, actor: str, user: str) -> str:
        """A new API token for ``user`` (admins, or the user for themself); replaces
        the previous one. Only its hash is stored."""
        user = user_name(user)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.write() as conn:
            if not same_user(actor, user):
                self.require(conn, actor, "admin")
            self.role_of(conn, user, provision=True)
            stored, _ = self._user_row(conn, user) or (user, "")
            conn.execute(update(s.users).where(s.users.c.name == stored)
                         .values(token_hash=token_digest(token)))
            self.audit.append(conn, actor, "token.issue", "user", user)
        return token

    def user_for_token(self, token: str) -> str | None:
        """The user an API token (a user's own, or a delegated one still valid) belongs
        to, or None."""
        found = self.token_owner(token)
        return None if found is None else found[0]

    def token_owner(self, token: str) -> tuple[str, bool] | None:
        """``(user, delegated)`` for an API token: its user, and whether it is a
        delegated token still valid rather than the user's own; None when unknown."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = token_digest(token)
        with self.db.read() as conn:
            if token.startswith(DELEGATED_PREFIX):
                d = s.delegated_tokens.c
                delegated = conn.execute(select(d.user).where(
                    d.token_hash == digest, d.expires_at > _now())).scalar()
                if delegated is not None:
                    return str(delegated), True
            own = conn.execute(select(s.users.c.name).where(
                s.users.c.token_hash == digest)).scalar()
        return None if own is None else (str(own), False)

    def delegate(self, user: str, purpose: str, ttl_seconds: float) -> str:
        """A token that acts as ``user`` for ``ttl_seconds``, for code the server runs on
        their behalf (a schedule firing, retraining, a kernel): it carries exactly that
        user's role and permissions and nothing of the server's. Recorded in the audit
        trail; :meth:`revoke_delegation` ends it early. Expired ones are swept here."""
        user = user_name(user)
        if not 1 <= ttl_seconds <= 7 * 24 * 3600:
            raise InvalidInput("a delegated token lives 1 s to 7 days", field="ttl")
        token = DELEGATED_PREFIX + secrets.token_urlsafe(32)
        now = _now()
        with self.db.write() as conn:
            d = s.delegated_tokens
            conn.execute(delete(d).where(d.c.expires_at <= now))
            conn.execute(insert(d).values(token_hash=token_digest(token), user=user,
                                          purpose=str(purpose)[:256], created_at=now,
                                          expires_at=now + int(ttl_seconds * 1000)))
            self.audit.append(conn, user, "token.delegate", "user", user, None,
                              {"purpose": str(purpose)[:256],
                               "ttl_seconds": int(ttl_seconds)}, time=now)
        return token

    def revoke_delegation(self, token: str) -> None:
        """End a delegated token now (the work it was issued for is over)."""
        with self.db.write() as conn:
            conn.execute(delete(s.delegated_tokens).where(
                s.delegated_tokens.c.token_hash == token_digest(token)))

    # ---------------------------------------------------------------- permissions
    def permissions(self, resource_type: str, resource: str) -> Permissions:
        """Owner, readers and writers (the creator owns a resource with no entry)."""
        with self.db.read() as conn:
            return self._permissions(conn, resource_type, resource)

    def set_permissions(self, actor: str, resource_type: str, resource: str, *,
                        readers: Iterable[str] | None = None,
                        writers: Iterable[str] | None = None,
                        owner: str | None = None) -> Permissions:
        """Replace readers/writers (and transfer ownership): the owner or an admin."""
        with self.db.write() as conn:
            current = self._permissions(conn, resource_type, resource)
            role = self.require(conn, actor, "read")
            if not same_user(actor, current.owner) and role != "admin":
                raise PermissionDenied(f"only the owner {current.owner!r} or an admin can "
                                       f"change who may use {resource_type} {resource!r}")
            new = Permissions(
                resource_type, resource, user_name(owner) if owner else current.owner,
                _names(readers) if readers is not None else current.readers,
                _names(writers) if writers is not None else current.writers)
            values = {"owner": new.owner, "readers": new.readers, "writers": new.writers,
                      "updated_at": _now(), "updated_by": actor}
            exists = self._permissions_row(conn, resource_type, resource) is not None
            if exists:
                conn.execute(update(s.permissions).where(
                    s.permissions.c.resource_type == resource_type,
                    s.permissions.c.resource == resource).values(**values))
            else:
                conn.execute(insert(s.permissions).values(
                    resource_type=resource_type, resource=resource, **values))
            self.audit.append(conn, actor, "permissions.set", resource_type, resource,
                              current.to_dict(), new.to_dict())
        return new

    def _permissions(self, conn: Connection, resource_type: str, resource: str
                     ) -> Permissions:
        if resource_type not in RESOURCE_TYPES:
            raise InvalidInput(f"permissions apply to {' and '.join(RESOURCE_TYPES)}, not "
                               f"{resource_type!r}")
        perms = self._permissions_row(conn, resource_type, resource)
        if perms is not None:
            return perms
        table = s.experiments if resource_type == "experiment" else s.registered_models
        key = table.c.id if resource_type == "experiment" else table.c.name
        creator = conn.execute(select(table.c.created_by).where(key == resource)).scalar()
        if creator is None:
            raise NotFound(f"{resource_type} {resource!r} does not exist")
        return Permissions(resource_type, resource, creator)

    def effective_permissions(self, conn: Connection, resource_type: str, resource: str
                              ) -> Permissions:
        """Owner, readers and writers as they apply (the creator owns a resource with no
        entry); :class:`NotFound` for an unknown resource."""
        return self._permissions(conn, resource_type, resource)

    def permissions_or_none(self, conn: Connection, resource_type: str, resource: str
                            ) -> Permissions | None:
        """The stored permissions of a resource, or None when it is open (no entry)."""
        return self._permissions_row(conn, resource_type, resource)

    def _permissions_row(self, conn: Connection, resource_type: str, resource: str
                         ) -> Permissions | None:
        mark = _mark(conn)
        row = conn.exec_driver_sql(_PERMISSIONS_OF.format(mark=mark),
                                   (resource_type, resource)).first()
        if row is None:
            return None
        return Permissions(resource_type, resource, row[0], _json_list(row[1]),
                           _json_list(row[2]))

    @staticmethod
    def _perms(row: Any) -> Permissions:
        return Permissions(row.resource_type, row.resource, row.owner, list(row.readers),
                           list(row.writers))


def _names(users: Iterable[str]) -> list[str]:
    if isinstance(users, str):
        raise InvalidInput("readers and writers are lists of user names")
    return sorted({user_name(u) for u in users})


__all__ = ["ROLES", "AccessControl", "Permissions", "User", "token_digest"]
