"""Alert webhooks: URL checks (a webhook is an SSRF vector) and delivery.

A webhook URL must be http(s) with a host name; every address it resolves to must be a
public one. Loopback, private, link-local, multicast, reserved and unspecified addresses
(also when an IPv6 address embeds one: IPv4-mapped or -compatible, NAT64, 6to4, Teredo)
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


# IPv6 ranges whose last 32 bits are an IPv4 address that a translator, a tunnel or the
# host itself may reach: IPv4-compatible (::/96, deprecated), IPv4-mapped, SIIT
# IPv4-translated and the well-known NAT64 prefix
_LAST_32_BITS = [ipaddress.IPv6Network(n) for n in (
    "::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96")]
# local-use NAT64 (RFC 8215): the operator's own translator, to whatever it is set up for
_NEVER_PUBLIC = [ipaddress.IPv6Network("64:ff9b:1::/48")]


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: the last 32 bits of the IPv4-compatible,
    IPv4-mapped, IPv4-translated and NAT64 (``64:ff9b::/96``) forms, the 6to4 gateway
    (``2002::/16``) and the Teredo server and client (``2001::/32``)."""
    out = [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
           for net in _LAST_32_BITS if ip in net]
    if ip.sixtofour is not None:
        out.append(ip.sixtofour)
    if ip.teredo is not None:
        out.extend(ip.teredo)
    return out


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a webhook may go to ``ip``: a global unicast address that embeds no
    loopback, private, link-local, multicast, reserved or unspecified IPv4 address."""
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in net for net in _NEVER_PUBLIC):
            return False
        return all(v4.is_global and not v4.is_multicast for v4 in embedded_ipv4(ip))
    return True


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
        if not allow and not is_public(ip):
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
