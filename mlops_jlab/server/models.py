"""``/mlops/api/models``: registered models, versions, aliases, lineage, validations, rules."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from ..registry.lineage import build_lineage
from ..serving.inputs import ARROW_STREAM
from .base import MlopsHandler
from .guard import TRUST_WIDENING, refuse_trust_widening
from .idempotency import ReplayableWrites, idempotent


def _tags(body: dict[str, Any]) -> dict[str, str] | None:
    tags = body.get("tags")
    if tags is None:
        return None
    if not isinstance(tags, dict):
        raise InvalidInput("tags must be an object of strings", field="tags")
    return {str(k): str(v) for k, v in tags.items()}


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{key} must be a string", field=key)
    return value


class RegistryHandler(ReplayableWrites, MlopsHandler):
    """Base of the registry handlers (writes honour ``Idempotency-Key``)."""

    auth_resource = "mlops:registry"

    @property
    def registry(self) -> Any:
        return self.mlops.registry


class ModelsHandler(RegistryHandler):
    """``GET /models``; ``POST /models {"name", "description"?, "tags"?}``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        models = await self.call(self.registry.list_models, user=self.username)
        self.reply({"models": [m.to_dict() for m in models]})

    @web.authenticated
    @authorized
    @idempotent
    async def post(self) -> None:
        body = self.json_body()
        model = await self.call(self.registry.create_model, body.get("name"), self.username,
                                _text(body, "description") or "", _tags(body))
        self.reply(model.to_dict(), status=201)


class ModelHandler(RegistryHandler):
    """``GET /models/{name}``; ``PATCH {"description"?, "tags"?}``."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply((await self.call(self.registry.get_model, name, user=self.username)).to_dict())

    @web.authenticated
    @authorized
    @idempotent
    async def patch(self, name: str) -> None:
        body = self.json_body()
        model = await self.call(self.registry.update_model, name, self.username,
                                _text(body, "description"), _tags(body))
        self.reply(model.to_dict())


class VersionsHandler(RegistryHandler):
    """``GET /models/{name}/versions``; ``POST {"run_id", "model_path"?}`` registers."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        versions = await self.call(self.registry.list_versions, name,
                                   self.query_bool("include_archived", False),
                                   user=self.username)
        self.reply({"versions": [v.to_dict() for v in versions]})

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, name: str) -> None:
        body = self.json_body()
        run_id = body.get("run_id")
        if not isinstance(run_id, str):
            raise InvalidInput("run_id (string) is required", field="run_id")
        version = await self.call(self.registry.register, run_id, name, self.username,
                                  body.get("model_path", "model"))
        self.reply(version.to_dict(), status=201)


class ModelVersionHandler(RegistryHandler):
    """``GET /models/{name}/versions/{v}``; ``PATCH {"description"?, "tags"?, "archived"?}``."""

    @web.authenticated
    @authorized
    async def get(self, name: str, ref: str) -> None:
        version = await self.call(self.registry.get_version, name, ref, user=self.username)
        self.reply(version.to_dict())

    @web.authenticated
    @authorized
    @idempotent
    async def patch(self, name: str, ref: str) -> None:
        body = self.json_body()
        archived = body.get("archived")
        if archived is not None and not isinstance(archived, bool):
            raise InvalidInput("archived must be true or false", field="archived")
        version = await self.call(self.registry.update_version, name, ref, self.username,
                                  description=_text(body, "description"), tags=_tags(body),
                                  archived=archived)
        self.reply(version.to_dict())


class AliasHandler(RegistryHandler):
    """``PUT /models/{name}/aliases/{alias} {"version"}``; ``DELETE``."""

    @web.authenticated
    @authorized
    @idempotent
    async def put(self, name: str, alias: str) -> None:
        body = self.json_body()
        version = body.get("version")
        if isinstance(version, bool) or not isinstance(version, (int, str)):
            raise InvalidInput("version (number) is required", field="version")
        updated = await self.call(self.registry.set_alias, name, alias, version,
                                  self.username)
        self.reply({"alias": alias.lstrip("@"), "version": updated.version})

    @web.authenticated
    @authorized
    @idempotent
    async def delete(self, name: str, alias: str) -> None:
        await self.call(self.registry.delete_alias, name, alias, self.username)
        self.set_status(204)
        self.finish()


class LineageHandler(RegistryHandler):
    """``GET /models/{name}/versions/{v}/lineage``."""

    @web.authenticated
    @authorized
    async def get(self, name: str, ref: str) -> None:
        def graph() -> dict[str, Any]:
            version = self.registry.get_version(name, ref)
            return build_lineage(version, self.mlops.tracking, self.mlops.root_dir)

        self.reply(await self.call(graph))


class ValidationsHandler(RegistryHandler):
    """``GET`` reports; ``POST {"dataset", "dataset_version"?, "target"}`` runs the rules
    on a logged dataset, or ``POST ?target=COLUMN`` with an Arrow IPC stream body
    (``application/vnd.apache.arrow.stream``) on the rows sent: the ``target`` column is
    y, the others X. The model runs in an isolated process without secrets, trusting
    only the types the server's configuration trusts (``c.MlopsJlab.trusted_types``)."""

    body_types = ("application/json", ARROW_STREAM)
    max_body_bytes = 256 * 1024 * 1024

    @web.authenticated
    @authorized
    async def get(self, name: str, ref: str) -> None:
        reports = await self.call(self.registry.list_validations, name, ref)
        self.reply({"validations": [r.to_dict() for r in reports]})

    @web.authenticated
    @authorized
    @idempotent
    async def post(self, name: str, ref: str) -> None:
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip() == ARROW_STREAM:
            await self._validate_rows(name, ref)
            return
        body = self.json_body()
        refuse_trust_widening(body)
        dataset, target = body.get("dataset"), body.get("target")
        if not isinstance(dataset, str) or not isinstance(target, str):
            raise InvalidInput("dataset and target (strings) are required")
        dataset_version = body.get("dataset_version")
        if dataset_version is not None and (isinstance(dataset_version, bool) or
                                            not isinstance(dataset_version, int)):
            raise InvalidInput("dataset_version must be an integer", field="dataset_version")
        report = await self.call(self.registry.validate_with_dataset, name, ref, dataset,
                                 target, self.username, dataset_version)
        self.reply(report.to_dict(), status=201)


    async def _validate_rows(self, name: str, ref: str) -> None:
        target = self.get_query_argument("target", None)
        if not target:
            raise InvalidInput("target (the label column of the Arrow body) is required",
                               field="target")
        refuse_trust_widening({k: self.get_query_argument(k, "") for k in TRUST_WIDENING})
        frame = _arrow_frame(self.request.body or b"")
        if target not in frame.columns:
            raise InvalidInput(f"the Arrow body has no column {target!r}", field="target")
        report = await self.call(self.registry.validate, name, ref,
                                 frame.drop(columns=[target]), frame[target].to_numpy(),
                                 self.username)
        self.reply(report.to_dict(), status=201)


def _arrow_frame(raw: bytes) -> Any:
    import pyarrow as pa
    import pyarrow.ipc

    try:
        return pyarrow.ipc.open_stream(raw).read_all().to_pandas()
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"the body is not an Arrow IPC stream: {exc}") from None


class RulesHandler(RegistryHandler):
    """``GET /models/{name}/rules``; ``PUT {"rules": [...]}`` replaces them."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply({"rules": await self.call(self.registry.get_rules, name)})

    @web.authenticated
    @authorized
    @idempotent
    async def put(self, name: str) -> None:
        rules = self.json_body().get("rules")
        if not isinstance(rules, list):
            raise InvalidInput("rules must be a list", field="rules")
        self.reply({"rules": await self.call(self.registry.set_rules, name, rules,
                                             self.username)})
