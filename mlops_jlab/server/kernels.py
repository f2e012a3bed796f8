"""Kernels of a team server act as the person who started them, through the REST API.

A kernel runs whatever its user types. On a team server (several people, each with
their own identity) a kernel that inherited the server's environment could open the
store directly and choose who it acts as. :class:`MlopsKernelManager` starts every
kernel with the environment of :mod:`..governance.delegation` instead: no store
variables, no server or hub tokens, and ``MLOPS_JLAB_URI`` + ``MLOPS_JLAB_TOKEN``, a
delegated token of the user who started the kernel (revoked when the kernel shuts
down). Enable it with::

    c.ServerApp.kernel_manager_class = "mlops_jlab.server.kernels.MlopsKernelManager"

Who started the kernel comes from :data:`requesting_user`, which
:class:`.identity.MlopsAuthorizer` sets when it authorizes the request that starts it.
The manager remembers that person as the kernel's owner (:meth:`owner_of`), and the
authorizer lets nobody else but an admin execute code in the kernel, restart,
interrupt or shut it down, or reach it through a session.
(The kernel still runs as the server's OS user: for people who must not read each
other's files, give each their own server: see docs/team-mode.md.)
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Float

from ..governance.delegation import scrubbed

#: the mlops_jlab user of the request being handled (set by MlopsAuthorizer)
requesting_user: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mlops_requesting_user", default=None)


class MlopsKernelManager(AsyncMappingKernelManager):
    """Starts kernels with a delegated identity in team mode (see the module docstring)."""

    kernel_token_hours = Float(24.0, config=True,
                               help="Lifetime of the token a kernel acts with (hours); a "
                                    "kernel running longer must be restarted")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._releases: dict[str, Callable[[], None]] = {}
        self._owners: dict[str, str] = {}

    def owner_of(self, kernel_id: str) -> str | None:
        """The mlops_jlab user who started the kernel (None: not known to be anyone's)."""
        return self._owners.get(kernel_id)

    def _delegation(self) -> Any:
        app = getattr(self, "parent", None)
        web_app = getattr(app, "web_app", None)
        services = web_app.settings.get("mlops_services") if web_app is not None else None
        delegation = getattr(services, "delegation", None)
        return delegation if delegation is not None and delegation.team else None

    async def _async_start_kernel(
            self, *, kernel_id: str | None = None, path: Any = None, **kwargs: Any) -> str:
        release: Callable[[], None] | None = None
        delegation = self._delegation()
        if delegation is not None and (kernel_id is None or kernel_id not in self):
            user = requesting_user.get()
            base = kwargs.get("env")
            if user:
                env, release = delegation.environment(
                    user, "kernel", self.kernel_token_hours * 3600, base)
            else:  # no known person: the API's URL only, and no identity at all
                env = scrubbed(base if base is not None else os.environ)
                env["MLOPS_JLAB_URI"] = delegation.api_url()
            kwargs["env"] = env
        try:
            started = await super()._async_start_kernel(kernel_id=kernel_id, path=path,
                                                         **kwargs)
        except BaseException:
            if release is not None:
                release()
            raise
        if release is not None:
            self._releases[started] = release
        user = requesting_user.get()
        if user and started not in self._owners:
            self._owners[started] = user
        return str(started)

    start_kernel = _async_start_kernel  # type: ignore[assignment]

    async def _async_shutdown_kernel(self, kernel_id: str, now: bool | None = False,
                                     restart: bool | None = False) -> None:
        try:
            await super()._async_shutdown_kernel(kernel_id, now=now, restart=restart)
        finally:
            release = None if restart else self._releases.pop(kernel_id, None)
            if not restart:
                self._owners.pop(kernel_id, None)
            if release is not None:
                release()

    shutdown_kernel = _async_shutdown_kernel  # type: ignore[assignment]
