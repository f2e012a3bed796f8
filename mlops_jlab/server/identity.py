"""Who acts on a request, and a jupyter-server identity provider and authorizer that
apply mlops_jlab's users and roles.

- With Jupyter's own shared-secret identities (the token or password of a
  single-user JupyterLab), every request comes from the one person running the server,
  although Jupyter names them "Anonymous ...": the acting user is the server's local
  user (``MLOPS_JLAB_USER`` or the OS user).
- With a real identity provider (JupyterHub, OAuth), the Jupyter username acts.
- :class:`MlopsIdentityProvider` also accepts per-user API tokens issued by
  ``mlops-jlab users token NAME`` (``Authorization: token mlops_...``): team mode's
  HttpBackend clients then act as that user. Enable it with
  ``c.ServerApp.identity_provider_class = "mlops_jlab.server.identity.MlopsIdentityProvider"``.
- :class:`MlopsAuthorizer` maps roles onto Jupyter's own resources: a viewer may read
  files and kernels but not write files or run code. Enable it with
  ``c.ServerApp.authorizer_class = "mlops_jlab.server.identity.MlopsAuthorizer"``.
  mlops_jlab's own routes are checked in the services, action by action.
"""

from __future__ import annotations

import re
from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import (
    IdentityProvider,
    LegacyIdentityProvider,
    PasswordIdentityProvider,
    User,
)

from ..errors import PermissionDenied
from ..governance.access import TOKEN_PREFIX
from ..governance.roles import RANK, is_system

MLOPS_USER_ATTR = "mlops_user"
"""Set on a Jupyter ``User`` authenticated by an mlops API token."""


class MlopsIdentityProvider(PasswordIdentityProvider):
    """Jupyter's token/password identity plus mlops_jlab per-user API tokens.

    An API token is checked where Jupyter checks its own token, so a request carrying
    one counts as token-authenticated (no XSRF check, like Jupyter's token)."""

    async def get_user_token(self, handler: Any) -> User | None:  # type: ignore[override]
        token = self.get_token(handler)
        if token and token.startswith(TOKEN_PREFIX):
            services = handler.settings.get("mlops_services")
            name = services.access.user_for_token(token.strip()) if services else None
            if name is None:
                return None  # a wrong mlops token is no login: 403
            user = User(username=name, name=name, display_name=name)
            setattr(user, MLOPS_USER_ATTR, name)
            return user
        return await super().get_user_token(handler)  # type: ignore[no-any-return,misc]


def _anonymous(user: Any) -> bool:
    """A user Jupyter made up for a shared token or password ("Anonymous Io")."""
    return bool(re.fullmatch(r"[0-9a-f]{32}", str(getattr(user, "username", "")))) and \
        str(getattr(user, "name", "")).startswith("Anonymous ")


SHARED_SECRET_PROVIDERS = (IdentityProvider, PasswordIdentityProvider, LegacyIdentityProvider,
                           MlopsIdentityProvider)


def acting_user(handler: Any, owner: str) -> str:
    """The mlops_jlab user a request acts as (see the module docstring)."""
    user = handler.current_user
    name = getattr(user, MLOPS_USER_ATTR, None)
    if name is None:
        if type(handler.identity_provider) in SHARED_SECRET_PROVIDERS and owner and \
                _anonymous(user):
            name = owner
        else:
            name = getattr(user, "username", None) or str(user)
    if is_system(name):
        raise PermissionDenied(f"user names starting with 'mlops:' are reserved ({name!r})")
    return str(name)


class MlopsAuthorizer(Authorizer):
    """Viewers may only read Jupyter's resources; mlops_jlab's own routes are left to
    the services, which check every action against the user's role."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        if resource.startswith("mlops:") or action == "read":
            return True
        services = handler.settings.get("mlops_services")
        if services is None or services.access is None:
            return False
        try:
            name = acting_user(handler, services.owner)
        except PermissionDenied:
            return False
        with services.access.db.read() as conn:
            role = services.access.role_of(conn, name)
        return RANK[role] >= RANK["contributor"]
