"""``%mlops_deploy``: serve a registered model version from a cell."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..client import serving as api
from ..errors import MlopsError
from ..serving.service import default_name
from ..widgets.deploy_status import DeployStatus
from .arguments import parse_line


def _canary(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    version, sep, percent = text.partition(":")
    if not sep or not version.isdigit() or not percent.isdigit():
        raise UsageError(f"--canary {text!r}: expected VERSION:PERCENT, e.g. 3:10")
    return int(version), int(percent)


def _pii(text: str | None) -> dict[str, str] | None:
    """``email=hash,ssn=mask`` as ``{"email": "hash", "ssn": "mask"}``."""
    if text is None:
        return None
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        column, sep, mode = part.partition("=")
        if not sep or not column.strip() or not mode.strip():
            raise UsageError(f"--pii {text!r}: expected COLUMN=MODE[,...], e.g. email=hash")
        out[column.strip()] = mode.strip()
    return out


@magics_class
class DeployMagics(Magics):
    """The ``%mlops_deploy`` line magic."""

    @magic_arguments()
    @argument("model", nargs="?", help="MODEL, MODEL@ALIAS or MODEL/VERSION")
    @argument("--name", "-n", help="deployment name (default MODEL-ENV)")
    @argument("--env", default="staging", choices=["staging", "production"])
    @argument("--replicas", type=int, default=1)
    @argument("--canary", metavar="VERSION:PERCENT", help="send PERCENT of requests to VERSION")
    @argument("--shadow", type=int, metavar="VERSION", help="also run VERSION, log, never return")
    @argument("--pii", metavar="COL=MODE,...",
              help="log these input columns hashed, masked or not at all (hash|mask|drop)")
    @argument("--stop", action="store_true", help="stop the deployment --name (or MODEL-ENV)")
    @argument("--rollback", action="store_true", help="return --name to its previous state")
    @argument("--timeout", type=float, default=60.0, help="seconds to wait until ready")
    @line_magic
    def mlops_deploy(self, line: str) -> Any:
        """Deploy a registered model version as a REST endpoint; see ``%mlops_deploy?``."""
        args = parse_line(self.mlops_deploy, line, "%mlops_deploy")
        try:
            if args.stop or args.rollback:
                name = args.name or (default_name(api.parse_model_ref(args.model, None)[0],
                                                  args.env) if args.model else None)
                if not name:
                    raise UsageError("--stop/--rollback need --name (or MODEL)")
                handle = api.get_deployment(name)
                if args.stop:
                    handle.stop()
                    print(f"stopped {name}")
                    return None
                handle.rollback(wait=False)
                return self._watch(handle, "rolled back", args.timeout)
            if not args.model:
                raise UsageError("%mlops_deploy needs MODEL[@ALIAS|/VERSION]")
            handle = api.deploy(args.model, name=args.name, env=args.env,
                                replicas=args.replicas, canary=_canary(args.canary),
                                shadow=args.shadow, pii=_pii(args.pii), wait=False)
        except MlopsError as exc:
            raise UsageError(f"%mlops_deploy: {exc}") from exc
        return self._watch(handle, "ready", args.timeout)

    @staticmethod
    def _watch(handle: api.DeploymentHandle, title: str, timeout: float
               ) -> api.DeploymentHandle:
        """Wait until the deployment serves, showing its live status, then its card."""
        status = DeployStatus(handle, title=title).start()
        try:
            handle.wait_ready(timeout, progress=status.update)
        except MlopsError as exc:
            status.fail(str(exc))
            raise UsageError(f"%mlops_deploy: {exc}") from exc
        status.finish()
        return handle
