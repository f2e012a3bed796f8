"""Jupyter's pages never carry the server's own token on a team server.

jupyter_server renders its shared token into every HTML page of a signed-in user
(``data-jupyter-api-token``), and JupyterLab into its page config (``"token"``). On a
team server people sign in with their own mlops or hub tokens, so those pages would
hand any of them, viewers included, the operator's token, which opens everything.
:class:`HidePageToken` blanks it in every HTML response; the operator's browser then
authenticates with its login cookie and XSRF token, as with password logins.
"""

from __future__ import annotations

import re
from typing import Any

from tornado.web import OutputTransform

_ATTRIBUTE = re.compile(rb'\s*data-jupyter-api-token="[^"]*"')
_PAGE_CONFIG = re.compile(rb'"token":\s*"[^"]*"')  # JupyterLab's page config JSON


def _scrub(chunk: bytes) -> bytes:
    return _PAGE_CONFIG.sub(b'"token": ""', _ATTRIBUTE.sub(b"", chunk))


class HidePageToken(OutputTransform):
    """Blanks the server's token in HTML responses (see the module docstring)."""

    def __init__(self, request: Any) -> None:
        super().__init__(request)
        self._html = False

    def transform_first_chunk(self, status_code: int, headers: Any, chunk: bytes,
                              finishing: bool) -> tuple[int, Any, bytes]:
        self._html = str(headers.get("Content-Type", "")).startswith("text/html")
        if self._html and chunk:
            chunk = _scrub(chunk)
            if "Content-Length" in headers:
                headers["Content-Length"] = str(len(chunk))
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        return _scrub(chunk) if self._html and chunk else chunk


def hide_page_token(web_app: Any) -> None:
    """Install :class:`HidePageToken` first (before compression) on a tornado app."""
    transforms = getattr(web_app, "transforms", None)
    if transforms is not None and HidePageToken not in transforms:
        transforms.insert(0, HidePageToken)
