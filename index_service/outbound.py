"""Outbound connections to URLs that administrators register (webhook receivers, the key
sets of run-time trusted issuers): only to the public internet, never to this machine or
a private network, which the service could otherwise be made to probe.

A host is judged by what it resolves to, the way the connection will resolve it
(`socket.getaddrinfo`): so `2130706433`, `127.1`, `0x7f000001`, `0177.0.0.1`, `0` and
`localhost.` are all seen as the loopback or unspecified address they are. Every address
must be global (IPv4 inside IPv6 is unwrapped first). The check is made when a URL is
registered and again at every connection, on the addresses the socket then connects to,
so a name cannot be re-pointed (DNS rebinding) after it was vetted. TLS still checks the
certificate against the name (httpcore2 takes SNI and the hostname from the request URL,
not from the address connected to).

Outside production `OUTBOUND_ALLOW_PRIVATE` (on by default there, refused in production)
lets a developer use a receiver on this machine: plain http to loopback names and https
anywhere, unchecked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore2
import httpx2

from index_service.errors import InvalidInput

__all__ = [
    "NotPublic",
    "check_url",
    "client",
    "public_addresses",
    "require_public_url",
    "transport",
]

# An address (v4 or v6 text) per entry; replaced in tests to make a name resolve where
# the test says (this is a seam for the network, not for the database).
Resolver = Callable[[str, int], list[str]]
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "::1", "localhost"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class NotPublic(Exception):
    """The URL or the address it resolves to is not on the public internet."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


resolver: Resolver = system_resolver


def is_public_address(text: str) -> bool:
    """A global unicast address, after unwrapping IPv4 carried in IPv6 (mapped, 6to4,
    Teredo, NAT64): not loopback, unspecified, private, shared (100.64/10), link-local,
    multicast, reserved or documentation."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address.teredo is not None:
            inner = address.teredo[1]
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return is_public_address(str(inner))
    return address.is_global and not address.is_multicast


def public_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, all of them global; else NotPublic."""
    name = host.strip("[]").rstrip(".").lower()
    if not name or name == "localhost" or name.endswith(".localhost"):
        raise NotPublic("the host is this machine")
    try:
        addresses = resolver(name, port)
    except (OSError, UnicodeError) as exc:
        raise NotPublic("the host cannot be resolved") from exc
    if not addresses:
        raise NotPublic("the host cannot be resolved")
    if not all(is_public_address(a) for a in addresses):
        raise NotPublic("the host resolves to an address that is not public")
    return addresses


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse (NotPublic) a URL the service may not connect to: https to a host whose
    every address is global; with `allow_private`, https anywhere or plain http to
    this machine's loopback names."""
    parsed = urlsplit(url)
    try:
        port = parsed.port
    except ValueError as exc:
        raise NotPublic("the port is not valid") from exc
    host = parsed.hostname or ""
    if allow_private:
        if (parsed.scheme == "https" and host) or (
            parsed.scheme == "http" and host in _LOOPBACK_NAMES
        ):
            return
        raise NotPublic("the url must be https (plain http only to this machine)")
    if parsed.scheme != "https" or not host:
        raise NotPublic("the url must be https")
    public_addresses(host, port or 443)


def require_public_url(url: str, *, allow_private: bool, field: str) -> None:
    """`check_url` for a URL being registered: a 422 problem `url_not_public` naming the
    field and why, never the URL (the answer to a probe says nothing of what is there)."""
    try:
        check_url(url, allow_private=allow_private)
    except NotPublic as exc:
        raise InvalidInput(
            f"{field} must be https on a public host: {exc}",
            code="url_not_public",
            field=field,
        ) from exc


class _VettingBackend(httpcore2.SyncBackend):
    """Connects only to addresses `public_addresses` vetted, resolving once, so the
    address checked is the address connected to."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        failure: Exception = NotPublic("the host cannot be resolved")
        for address in public_addresses(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore2.ConnectError as exc:
                failure = exc
        raise failure


class _VettingTransport(httpx2.HTTPTransport):
    def __init__(self) -> None:
        super().__init__(trust_env=False)
        # httpx2 (pinned) builds its pool without a way to pass a network backend; the
        # pool is replaced by one that is the same but for the backend.
        # tests/alerts/test_delivery.py proves the check holds at connection time.
        limits = httpx2.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_VettingBackend(),
        )


def transport(*, allow_private: bool) -> httpx2.BaseTransport:
    """The transport for outbound requests to registered URLs."""
    return httpx2.HTTPTransport(trust_env=False) if allow_private else _VettingTransport()


def client(*, allow_private: bool, timeout: float) -> httpx2.Client:
    """An HTTP client that connects only where `check_url` allows, follows no redirect
    and ignores proxy settings from the environment."""
    return httpx2.Client(
        transport=transport(allow_private=allow_private),
        follow_redirects=False,
        trust_env=False,
        timeout=timeout,
    )
