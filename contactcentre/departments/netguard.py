"""Outbound webhooks must never reach the city's own network (SSRF).

The host is resolved once; every address it resolves to must be public, and the request then
goes to that very address (the caller pins it), so a DNS answer that changes between the check
and the connect (rebinding) cannot smuggle the request inside.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]


class UnsafeDestination(Exception):
    """The URL points somewhere we refuse to post to. Permanent: retrying cannot help."""


@dataclass(frozen=True, slots=True)
class Destination:
    scheme: str
    host: str  # as in the URL, for the Host header, SNI and certificate checks
    port: int
    address: str  # the vetted IP address to connect to
    path: str  # path and query


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved
        or ip.is_multicast or ip.is_unspecified or not ip.is_global
    )


def destination_check(
    url: str, *, allow_loopback: bool = False, resolver: Resolver = system_resolver
) -> Destination:
    """Vet ``url``; return where to connect. ``allow_loopback`` is the test-only allowance: it
    admits 127.0.0.0/8 and ::1 (a receiver in the test process), nothing else private."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise UnsafeDestination(f"scheme {parts.scheme!r} is not allowed")
    if parts.username or parts.password:
        raise UnsafeDestination("credentials in the URL are not allowed")
    host = parts.hostname
    if not host:
        raise UnsafeDestination("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestination("invalid port") from exc
    try:
        addresses = resolver(host, port)
    except OSError as exc:
        # Name resolution is temporary by nature: the caller retries.
        raise ConnectionError(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise ConnectionError(f"{host} resolves to no address")
    for raw in addresses:
        ip = ipaddress.ip_address(raw.split("%", 1)[0])
        if allow_loopback and ip.is_loopback:
            continue
        if _forbidden(ip):
            raise UnsafeDestination(f"{host} resolves to a non-public address ({ip})")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(scheme=parts.scheme, host=host, port=port, address=addresses[0], path=path)
