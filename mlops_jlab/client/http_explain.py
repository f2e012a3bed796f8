"""Explanations over REST (team mode): the same calls as :class:`ExplanationService`
(``user`` arguments are ignored: the server decides who acts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import NotFound
from .http import _q  # http.py imports this module lazily: no import cycle


class HttpExplanations:
    """``/mlops/api/models/{name}/versions/{version}/explanations``."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def _path(self, name: str, version: int | str) -> str:
        return f"/models/{_q(name)}/versions/{_q(version)}/explanations"

    def record(self, name: str, version: int | str, payload: Mapping[str, Any],
               user: str = "") -> dict[str, Any]:
        return dict(self.http.json("POST", self._path(name, version), json=dict(payload)))

    def list(self, name: str, version: int | str = "latest", *,
             user: str | None = None) -> list[dict[str, Any]]:
        return list(self.http.json("GET", self._path(name, version))["explanations"])

    def get(self, name: str, version: int | str = "latest", explanation: str = "latest", *,
            user: str | None = None) -> dict[str, Any]:
        return dict(self.http.json("GET", f"{self._path(name, version)}/{_q(explanation)}"))

    def latest_background(self, name: str, version: int) -> dict[str, Any] | None:
        try:
            return dict(self.get(name, version)["background"])
        except NotFound:
            return None
