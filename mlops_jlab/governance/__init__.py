"""Governance: roles and permissions, four-eyes promotions, the hash-chained audit
trail and model cards. Every service checks access and records audit events through
the :class:`AccessControl` it is given, inside the transaction of each change."""

from .access import AccessControl, Permissions, User
from .audit import AuditEvent, AuditFilter, AuditLog, Verification
from .roles import ROLES

__all__ = ["ROLES", "AccessControl", "AuditEvent", "AuditFilter", "AuditLog", "Permissions",
           "User", "Verification"]
