"""Checks on a write request before any handler reads its body: media type and size.

Why a media-type check: a browser sends ``text/plain``, ``multipart/form-data`` and
``application/x-www-form-urlencoded`` bodies cross-site without a CORS preflight, which
is how MLflow's CVE-2023-43472 turned a page visit into API writes. A JSON API that only
accepts ``application/json`` (or the types a handler declares) cannot be driven that way.

What the size check bounds (and what it does not):

- Tornado buffers a request body *before* ``prepare()`` runs (handlers here do not
  stream), up to ``ServerApp.max_body_size`` / ``max_buffer_size`` (512 MiB each by
  default in jupyter-server; a bigger ``Content-Length`` is refused by Tornado with 400
  before reading). Those server-wide traits are what bound the memory one request can
  take; lower them in ``jupyter_server_config.py`` to bound it further.
- ``max_body_bytes`` (per handler) bounds what reaches a handler: JSON parsing, the
  services, the database and the artifact store never see a body larger than the
  handler declared. The declared ``Content-Length`` is checked first, then the bytes
  actually received (chunked requests carry no length), both before anything is parsed,
  and the answer is a 413 JSON error naming the limit.
"""

from __future__ import annotations

from tornado import web

from ..errors import InvalidInput

JSON = "application/json"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``("application/json", {"charset": "utf-8"})`` from a Content-Type header value
    (type and parameter names lowercased; empty type when there is no header)."""
    if not header:
        return "", {}
    kind, *params = header.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), parsed


def check_media_type(method: str, header: str | None, body_size: int,
                     accepted: tuple[str, ...]) -> None:
    """Refuse (415) a write whose body is not one of the ``accepted`` media types.

    A write without a body (empty POST such as an acknowledge, DELETE) passes whatever
    its Content-Type says: there is nothing to misinterpret. JSON must be UTF-8 (a
    ``charset`` parameter is allowed, any other charset is refused)."""
    if method not in WRITE_METHODS or body_size == 0:
        return
    kind, params = media_type(header)
    if kind not in accepted:
        shown = kind or "none"
        raise web.HTTPError(415, "Content-Type %s is not accepted here; send %s",
                            shown, " or ".join(accepted))
    charset = params.get("charset")
    if kind == JSON and charset not in (None, "utf-8", "utf8"):
        raise web.HTTPError(415, "JSON bodies must be UTF-8, not charset=%s", charset)


def check_body_size(declared: str | None, received: int, limit: int) -> None:
    """Refuse (413) a body larger than ``limit`` bytes, by its declared Content-Length
    and by what was received."""
    try:
        size = int(declared) if declared else 0
    except ValueError:
        raise web.HTTPError(400, "Content-Length %r is not a number", declared) from None
    size = max(size, received)
    if size > limit:
        raise web.HTTPError(413, "request body of %d bytes is larger than the %d bytes "
                            "this route accepts", size, limit)


def nul_in(value: object) -> bool:
    """Whether a NUL character hides anywhere in a decoded request value (path argument,
    query argument, JSON document). PostgreSQL refuses NUL in text, so such input is
    refused up front as 400 instead of failing in the database."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, bytes):
        return b"\x00" in value
    if isinstance(value, dict):
        return any(nul_in(k) or nul_in(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(nul_in(v) for v in value)
    return False


TRUST_WIDENING = ("trusted_types", "allow_pickle")


def refuse_trust_widening(given: dict[str, object]) -> None:
    """400 when a request tries to widen what the server's model loads trust: only the
    server's configuration does (``c.MlopsJlab.trusted_types``; pickle never)."""
    for key in TRUST_WIDENING:
        if given.get(key) not in (None, "", False, []):
            raise InvalidInput(f"{key} is not taken from a request: the server's "
                               "administrator trusts types with c.MlopsJlab.trusted_types, "
                               "and the server never loads pickle", field=key)
