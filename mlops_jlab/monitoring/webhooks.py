"""Alert webhooks: URL checks (a webhook is an SSRF vector) and delivery.

A webhook URL must be http(s) with a host name; every address it resolves to must be a
public one. Loopback, private, link-local, multicast, reserved and unspecified addresses
are refused unless ``MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS=1`` (or the server trait
``c.MlopsJlab.allow_private_webhooks``) says otherwise. The check runs when a rule is
saved and again before each delivery (the name may resolve elsewhere by then), and the
request goes to the address that was checked, never re-resolved.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
import urllib.parse
from typing import Any

from ..errors import InvalidInput

TIMEOUT = 5.0


def private_allowed() -> bool:
    """Whether webhooks may reach loopback and private networks (explicit opt-in)."""
    return os.environ.get("MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS", "").lower() in ("1", "true",
                                                                               "yes")


def check_url(url: str, allow_private: bool | None = None) -> tuple[urllib.parse.SplitResult,
                                                                   str]:
    """The parsed URL and the address to connect to; InvalidInput says what is wrong."""
    allow = private_allowed() if allow_private is None else allow_private
    if not isinstance(url, str) or len(url) > 2048:
        raise InvalidInput("webhook must be an http(s) URL", field="webhook")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:  # bad port, unbalanced brackets
        raise InvalidInput(f"webhook {url!r} is not a valid URL: {exc}",
                           field="webhook") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"webhook {url!r} must be an http:// or https:// URL with a host",
                           field="webhook")
    if parts.username or parts.password:
        raise InvalidInput("webhook URLs may not carry credentials", field="webhook")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InvalidInput(f"webhook host {parts.hostname!r} does not resolve: {exc}",
                           field="webhook") from None
    addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        mapped = getattr(ip, "ipv4_mapped", None) or getattr(ip, "sixtofour", None)
        public = ip.is_global and not ip.is_multicast and (
            mapped is None or (mapped.is_global and not mapped.is_multicast))
        if not allow and not public:
            raise InvalidInput(
                f"webhook {parts.hostname} resolves to {ip}, a loopback, private or "
                "reserved address; set MLOPS_JLAB_ALLOW_PRIVATE_WEBHOOKS=1 to allow it",
                field="webhook")
    return parts, addresses[0]


def deliver(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST ``payload`` as JSON; the outcome (status or error), never an exception."""
    try:
        parts, address = check_url(url)
    except InvalidInput as exc:
        return {"ok": False, "error": exc.message}
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        import ssl

        # connect to the checked address, verify the certificate against the host name
        conn = _PinnedHTTPS(parts.hostname or "", address, port, TIMEOUT,
                            ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(address, port, timeout=TIMEOUT)
    try:
        body = json.dumps(payload, default=str).encode()
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/json", "Host": parts.netloc,
            "User-Agent": "mlops-jlab-alerts"})
        response = conn.getresponse()
        response.read(65536)
        return {"ok": 200 <= response.status < 300, "status": response.status}
    except (OSError, http.client.HTTPException) as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        conn.close()


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address with the certificate checked for ``hostname``."""

    def __init__(self, hostname: str, address: str, port: int, timeout: float,
                 context: Any) -> None:
        super().__init__(hostname, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
