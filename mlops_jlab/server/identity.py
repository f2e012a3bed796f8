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
- With a hub (``c.MlopsIdentityProvider.hub_api_url``, by default
  ``$JUPYTERHUB_API_URL`` when the server runs as a JupyterHub service), any other token
  in the ``Authorization`` header is checked with JupyterHub (``GET <hub>/user``,
  through JupyterHub's ``HubAuth``, cached briefly by the token's sha256) and the
  request acts as that hub user. Tokens of services, tokens without the service's
  access scope and unknown tokens are no login (403). This is how the team topology's
  MLOps server (docs/team-mode.md) knows who is calling from a user's server or kernel.
- mlops API tokens are accepted only in the ``Authorization`` header, never in the URL
  (``?token=``), where logs, proxies and browser history would keep them; Jupyter's own
  token keeps its URL form.
- User names are normalised (case-folded; see :func:`..governance.roles.user_name`).
- :class:`MlopsAuthorizer` maps roles onto Jupyter's own resources: a viewer may read
  files and kernels but not write files or run code. Enable it with
  ``c.ServerApp.authorizer_class = "mlops_jlab.server.identity.MlopsAuthorizer"``.
  mlops_jlab's own routes are checked in the services, action by action.
- :class:`MlopsServiceAuthorizer` is for the team's MLOps server: people signed in with
  a hub or mlops token reach ``/mlops/api`` only, never its files, kernels or terminals.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import (
    IdentityProvider,
    LegacyIdentityProvider,
    PasswordIdentityProvider,
    User,
)
from tornado import web
from traitlets import Integer, Unicode, default

from ..errors import ConfigurationError, InvalidInput, MlopsError, PermissionDenied
from ..governance.access import TOKEN_PREFIX
from ..governance.roles import RANK, fold, is_system, same_user, user_name
from .kernels import requesting_user

DELEGATED_ATTR = "mlops_delegated"
"""Set on a Jupyter ``User`` authenticated by a delegated token (code the server runs
for that person): it acts as them, but cannot mint lasting credentials."""
MLOPS_USER_ATTR = "mlops_user"
"""Set on a Jupyter ``User`` authenticated by an mlops API token."""


class MlopsIdentityProvider(PasswordIdentityProvider):
    """Jupyter's token/password identity plus mlops_jlab per-user API tokens and, with a
    hub, JupyterHub tokens (see the module docstring).

    A token is checked where Jupyter checks its own, so a request carrying one counts as
    token-authenticated (no XSRF check, like Jupyter's token). A request signed in by an
    mlops or hub token gets no login cookie: nothing outlives the token."""

    hub_api_url = Unicode(
        config=True,
        help="JupyterHub's API URL (e.g. http://127.0.0.1:8081/hub/api): tokens that are "
             "neither Jupyter's nor mlops ones are checked there and act as their hub "
             "user. Default: $JUPYTERHUB_API_URL when this server runs as a JupyterHub "
             "service ($JUPYTERHUB_SERVICE_NAME set), else none. Needs the 'hub' extra "
             "(jupyterhub). The scopes a token must hold are c.HubAuth.access_scopes "
             "(default: access to this service)")
    hub_cache_seconds = Integer(
        30, config=True,
        help="How long JupyterHub's answer for a token is reused (a revoked hub token "
             "still works for at most this long)")

    @default("hub_api_url")
    def _default_hub_api_url(self) -> str:
        if os.environ.get("JUPYTERHUB_SERVICE_NAME"):
            return os.environ.get("JUPYTERHUB_API_URL", "")
        return ""

    _hub: Any = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.hub_api_url:
            self._hub_auth()  # a missing jupyterhub fails the start, not each request

    def _hub_auth(self) -> Any:
        """JupyterHub's ``HubAuth`` for :attr:`hub_api_url` (created once)."""
        if self._hub is None:
            try:
                from jupyterhub.services.auth import HubAuth
            except ImportError:
                raise ConfigurationError(
                    "MlopsIdentityProvider.hub_api_url is set but jupyterhub is not "
                    "installed: pip install 'mlops_jlab[hub]'") from None
            self._hub = HubAuth(parent=self, api_url=self.hub_api_url,
                                cache_max_age=self.hub_cache_seconds)
        return self._hub

    def _header_token(self, handler: Any) -> str:
        match = self.auth_header_pat.match(handler.request.headers.get("Authorization", ""))
        return match.group(2).strip() if match else ""

    @staticmethod
    def _token_user(name: str) -> User:
        user = User(username=name, name=name, display_name=name)
        setattr(user, MLOPS_USER_ATTR, name)
        return user

    async def get_user_token(self, handler: Any) -> User | None:
        if handler.get_argument("token", "").startswith(TOKEN_PREFIX):
            raise web.HTTPError(403, "mlops API tokens are accepted only in the "
                                "Authorization header (Authorization: token mlops_...), "
                                "never in the URL")
        token = self._header_token(handler)
        if token.startswith(TOKEN_PREFIX):
            services = handler.settings.get("mlops_services")
            access = getattr(services, "access", None)
            found = access.token_owner(token) if access is not None else None
            if found is None:
                return None  # a wrong mlops token is no login: 403
            name, delegated = found
            if not _may_open_jupyter(handler, delegated):
                return None  # Jupyter's own routes: no login (403)
            user = self._token_user(fold(name))  # a name stored before normalising
            if delegated:
                setattr(user, DELEGATED_ATTR, True)
            return user
        if token and self.hub_api_url and token != self.token and \
                not handler.get_argument("token", ""):
            if not _may_open_jupyter(handler, False):
                return None
            return await self._hub_user(token)
        return await super().get_user_token(handler)

    async def _hub_user(self, token: str) -> User | None:
        """The hub user a token belongs to, or None (unknown, expired, a service's, or
        without the access scopes this service requires)."""
        hub = self._hub_auth()
        try:
            model = await hub.user_for_token(token, sync=False)
        except (web.HTTPError, OSError, ValueError) as exc:
            self.log.warning("mlops_jlab: JupyterHub at %s could not check a token: %s",
                             self.hub_api_url, exc)
            return None
        if not isinstance(model, dict) or model.get("kind") != "user":
            return None  # unknown token, or a service's: services are not people
        if hub.access_scopes and not hub.check_scopes(hub.access_scopes, model):
            self.log.warning("mlops_jlab: hub user %s's token lacks %s", model.get("name"),
                             sorted(hub.access_scopes))
            return None
        try:
            return self._token_user(user_name(str(model.get("name", ""))))
        except InvalidInput as exc:
            self.log.warning("mlops_jlab: hub user name refused: %s", exc)
            return None

    def set_login_cookie(self, handler: Any, user: User) -> None:
        """Jupyter's login cookie, except for mlops and hub token logins."""
        if getattr(user, MLOPS_USER_ATTR, None) is not None:
            return
        super().set_login_cookie(handler, user)


def _mlops_route(handler: Any) -> bool:
    """Whether the request is for mlops_jlab's own API (``<base_url>mlops/...``)."""
    base = handler.settings.get("base_url", "/") or "/"
    return bool(handler.request.path.startswith(base.rstrip("/") + "/mlops/"))


def _may_open_jupyter(handler: Any, delegated: bool) -> bool:
    """Whether an mlops or hub token signs in on this request. mlops_jlab's API: always.
    Jupyter's own routes (files, kernels, terminals, pages): never for a delegated token
    (a job's or a kernel's: it acts through the API only), and for a person's token only
    when :class:`MlopsAuthorizer` decides what their role may do there (reads, and
    changes through handlers that ask it); under any other authorizer (Jupyter's
    default allows everything) the token would open everything."""
    if _mlops_route(handler):
        return True
    if delegated:
        return False
    authorizer = handler.settings.get("authorizer")
    if not isinstance(authorizer, MlopsAuthorizer) or \
            isinstance(authorizer, MlopsServiceAuthorizer):
        return False
    # Only handlers that ask the authorizer (jupyter_server's services declare their
    # ``auth_resource``) may change anything: JupyterLab's own routes (extension
    # manager, plugins, build, settings, workspaces) only check that someone signed in,
    # so a viewer could install an extension (pip, as the server's user) through them
    return handler.request.method in ("GET", "HEAD") or \
        getattr(handler, "auth_resource", None) is not None


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
    if is_system(fold(str(name))):
        raise PermissionDenied(f"user names starting with 'mlops:' are reserved ({name!r})")
    return user_name(str(name))  # case-folded; odd characters: 400 naming them


class MlopsAuthorizer(Authorizer):
    """Viewers may only read Jupyter's resources; mlops_jlab's own routes are left to
    the services, which check every action against the user's role."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        if resource.startswith("mlops:"):
            return True
        if getattr(user, DELEGATED_ATTR, False):
            return False  # a job's or a kernel's token acts through mlops_jlab's API only
        if action == "read":
            return True
        services = handler.settings.get("mlops_services")
        if services is None or services.access is None:
            return False
        try:
            name = acting_user(handler, services.owner)
        except MlopsError:
            return False
        requesting_user.set(name)  # a kernel this request starts acts as them (.kernels)
        with services.access.db.read() as conn:
            role = services.access.role_of(conn, name)
        if RANK[role] < RANK["contributor"]:
            return False
        return role == "admin" or _may_use_kernel(handler, name)


def _may_use_kernel(handler: Any, name: str) -> bool:
    """Whether ``name`` may act on the kernel the request names (directly, or through
    its session): only its owner may, when the kernel manager knows one (.kernels)."""
    owner_of = getattr(getattr(handler, "kernel_manager", None), "owner_of", None)
    if owner_of is None:
        return True
    kernel_id = handler.path_kwargs.get("kernel_id") or getattr(handler, "kernel_id", None)
    session_id = handler.path_kwargs.get("session_id")
    if not kernel_id and session_id:
        kernel_id = _kernel_of_session(handler, session_id)
    owner = owner_of(kernel_id) if kernel_id else None
    if owner is not None and not same_user(owner, name):
        return False
    named = _kernel_in_body(handler)  # a session created or moved onto a kernel
    owner = owner_of(named) if named else None
    return owner is None or same_user(owner, name)


def _kernel_in_body(handler: Any) -> str | None:
    """The kernel id a sessions request's JSON body names (``{"kernel": {"id": ...}}``)."""
    request = handler.request
    if request.method not in ("POST", "PATCH") or "/api/sessions" not in request.path or \
            not request.body:
        return None
    try:
        body = json.loads(handler.request.body)
    except ValueError:
        return None
    kernel = body.get("kernel") if isinstance(body, dict) else None
    kernel_id = kernel.get("id") if isinstance(kernel, dict) else None
    return kernel_id if isinstance(kernel_id, str) else None


def _kernel_of_session(handler: Any, session_id: str) -> str | None:
    """The kernel of a Jupyter session (its session manager's SQLite table)."""
    try:
        row = handler.session_manager.cursor.execute(
            "SELECT kernel_id FROM session WHERE session_id=?", (session_id,)).fetchone()
    except Exception:  # another session manager: no kernel known
        return None
    return str(row[0]) if row and row[0] else None


class MlopsServiceAuthorizer(MlopsAuthorizer):
    """For the team's MLOps server (docs/team-mode.md): whoever signs in with a hub or
    mlops token reaches ``/mlops/api`` only. Jupyter's own resources there (files,
    kernels, terminals) are for the server's operator (its Jupyter token or password):
    a kernel on that server runs as its OS user, next to the store and its secrets."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        if resource.startswith("mlops:"):
            return True
        if getattr(user, MLOPS_USER_ATTR, None) is not None or not _anonymous(user):
            return False
        return super().is_authorized(handler, user, action, resource)
